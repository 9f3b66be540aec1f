"""The public core API as the benchmarks call it, adapted to its current signature.

Writes take `actor=`. When the core has `core.access.Actor`, a benchmark books as a
member of staff and sets up sessions as an admin (as a person signed in with that role
would); before it, the actor was a plain name. Checked at import, so a changed
signature fails loudly before any figure is taken.
"""

from __future__ import annotations

import inspect

from core import booking, sessions


def actor(role: str):
    """The actor a person signed in as `role` would be ("bench <role>" in the audit trail)."""
    try:
        from core import access
    except ImportError:
        return f"bench {role}"
    actor_type = getattr(access, "Actor", None)
    if actor_type is None:
        return f"bench {role}"
    try:
        return actor_type(name=f"bench {role}", role=role)
    except TypeError as exc:
        raise RuntimeError(f"core.access.Actor changed; adapt bench/api.py: {exc}") from exc


STAFF = actor("staff")
ADMIN = actor("admin")
_BOOK_PARAMS = inspect.signature(booking.book).parameters
_BOOK_EXTRA = {"actor": STAFF} if "actor" in _BOOK_PARAMS else {}


def book(engine, session_id, *, name: str, email: str, seats: int = 1):
    """core.booking.book with a contact, `seats` places, as a member of staff."""
    return booking.book(engine, session_id, contact_name=name, contact_email=email, seats=seats, **_BOOK_EXTRA)


def create_sessions(engine, specs: list[dict]):
    """core.sessions.create_sessions as an admin."""
    return sessions.create_sessions(engine, specs, actor=ADMIN)


def describe() -> str:
    return (f"core.booking.book(engine, session_id, contact_name=..., contact_email=..., seats=1"
            + (f", actor={_BOOK_EXTRA['actor']!r})" if _BOOK_EXTRA else ")"))
