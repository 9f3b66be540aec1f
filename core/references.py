"""Booking references: short, unambiguous, easy to read out on the phone."""

from __future__ import annotations

import secrets

# Crockford-style alphabet without 0/O, 1/I/L, U: easy to read out on the phone.
_REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference() -> str:
    """'BK-' and six characters of the alphabet, uniformly drawn (one random number)."""
    n = secrets.randbelow(len(_REF_ALPHABET) ** 6)
    chars = []
    for _ in range(6):
        n, digit = divmod(n, len(_REF_ALPHABET))
        chars.append(_REF_ALPHABET[digit])
    return "BK-" + "".join(chars)
