"""Counts of sessions by availability, as one line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st

from core.models import Session
from core.wording import plural


@dataclass(frozen=True)
class Counts:
    sessions: int
    full: int
    almost_full: int
    places_left: int


def count(sessions: Sequence[Session]) -> Counts:
    live = [s for s in sessions if s.status == "scheduled"]
    return Counts(
        sessions=len(live),
        full=sum(s.state == "full" for s in live),
        almost_full=sum(s.state == "almost_full" for s in live),
        places_left=sum(s.remaining for s in live),
    )


def counts_line(sessions: Sequence[Session], where: str, *, with_full: bool = True) -> None:
    c = count(sessions)
    full = f":red[**{c.full} full**] · " if with_full else ""
    st.markdown(
        f"{where}: **{c.sessions}** {plural(c.sessions, 'session')} · "
        f"{full}:orange[**{c.almost_full} almost full**] · "
        f"**{c.places_left}** {plural(c.places_left, 'place')} left"
    )
