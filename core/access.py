"""Who may do what. Checked here, in the core, for every write, so a screen that forgets
a check still cannot write.

viewer  sees the calendar, the dashboard and exports
staff   also books, holds, cancels, moves, and keeps waiting lists
admin   also manages the schedule, the course catalogue and users
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import NotPermitted

ROLES = ("viewer", "staff", "admin")
_RANK = {role: n for n, role in enumerate(ROLES)}


@dataclass(frozen=True)
class Actor:
    """A signed-in person (or the command line) and their role."""

    name: str
    role: str

    def __post_init__(self):
        if self.role not in _RANK:
            raise ValueError(f"unknown role {self.role!r}; one of {', '.join(ROLES)}")
        if not self.name or not self.name.strip():
            raise ValueError("an actor needs a name for the audit trail")

    def can(self, role: str) -> bool:
        return _RANK[self.role] >= _RANK[role]


COMMAND_LINE = Actor("command line", "admin")


def require(actor: object, role: str, doing: str) -> str:
    """The actor's name for the audit trail, if they may do this; else NotPermitted."""
    if not isinstance(actor, Actor):
        raise NotPermitted(f"Sign in to {doing}.")
    if not actor.can(role):
        article = "an" if role[0] in "aeiou" else "a"
        raise NotPermitted(f"{actor.name} is signed in as {actor.role}; to {doing} needs {article} {role} account.")
    return actor.name[:200]
