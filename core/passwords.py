"""Passwords of the local user list: bcrypt hashes only, never the password itself.

    python -m core hash-password            # asks twice, prints a line for secrets.toml

The secrets file then holds, per person:

    [users.sam]
    name = "Sam Patel"
    role = "staff"                 # viewer | staff | admin
    password_hash = "$2b$12$..."
"""

from __future__ import annotations

import getpass
import sys

import bcrypt

from core.errors import InvalidInput

MIN_LENGTH = 10
MAX_BYTES = 72  # bcrypt reads no further; longer passwords are refused, not silently cut
ROUNDS = 12

# A hash of a password nobody has: checking an unknown user name costs the same time as
# checking a known one, so the answer's timing does not tell which names exist.
_DUMMY_HASH = bcrypt.hashpw(b"no such user", bcrypt.gensalt(rounds=ROUNDS))


def _bytes(password: str) -> bytes:
    raw = password.encode("utf-8")
    if len(raw) > MAX_BYTES:
        raise InvalidInput("password", f"A password may be at most {MAX_BYTES} bytes long.")
    return raw


def hash_password(password: str, *, rounds: int = ROUNDS) -> str:
    """A bcrypt hash ("$2b$12$...") of a password of at least MIN_LENGTH characters."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput("password", f"A password needs at least {MIN_LENGTH} characters.")
    return bcrypt.hashpw(_bytes(password), bcrypt.gensalt(rounds=rounds)).decode("ascii")


def check_password(password: str, password_hash: str | None) -> bool:
    """True when `password` matches the bcrypt `password_hash`; False for anything else
    (no hash, a malformed hash, a password too long), in about the same time."""
    try:
        raw = _bytes(password or "")
    except InvalidInput:
        raw = b""
        password_hash = None
    try:
        stored = (password_hash or "").encode("ascii")
        if not stored.startswith(b"$2"):
            raise ValueError("not a bcrypt hash")
        return bcrypt.checkpw(raw, stored)
    except ValueError:
        bcrypt.checkpw(raw, _DUMMY_HASH)
        return False


def looks_like_hash(value: object) -> bool:
    return isinstance(value, str) and value.startswith(("$2a$", "$2b$", "$2y$")) and len(value) == 60


# --- command line ---------------------------------------------------------------------------


def _hash_password_command(args) -> str:
    if args.stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("New password: ")
        if getpass.getpass("Again: ") != password:
            raise InvalidInput("password", "The two passwords differ; nothing was made.")
    made = hash_password(password)
    return f'password_hash = "{made}"'


def add_hash_password_parser(subparsers) -> None:
    """`python -m core hash-password [--stdin]`: a line to paste under [users.<name>]."""
    cmd = subparsers.add_parser(
        "hash-password",
        help="make the bcrypt hash of a password for the local user list in secrets.toml",
        description="Prints a password_hash line to put under [users.<name>] in .streamlit/secrets.toml.",
    )
    cmd.add_argument("--stdin", action="store_true", help="read the password from standard input (one line)")
    cmd.set_defaults(run=_hash_password_command)
