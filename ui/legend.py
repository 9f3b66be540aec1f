"""The legend under the calendar: what the marks mean, and which colour is which course."""

from __future__ import annotations

import html
from collections.abc import Sequence

import streamlit as st

from core.models import ALMOST_FULL_AT, CourseType
from ui.events import ALMOST_AMBER, CANCELLED_GREY, FULL_RED, tint
from ui.text import as_html

_CHIP = ("display:inline-block;padding:1px 8px;margin:2px 10px 2px 0;border-radius:4px;"
         "font-size:0.85rem;color:{colour};border:1px solid {border};border-left:5px solid {border};"
         "background:{bg};{extra}")


def _chip(text: str, *, bg: str, border: str, extra: str = "", colour: str = "#111827", markup: str = "") -> str:
    """A chip saying `text` (the app's words), or showing `markup` (HTML made with as_html)."""
    style = _CHIP.format(bg=bg, border=border, extra=extra, colour=colour)
    return f'<span style="{style}">{markup or html.escape(text)}</span>'


def legend_html(types: Sequence[CourseType], *, show_cancelled: bool = False) -> str:
    states = [
        _chip("5 left: available", bg="#F9FAFB", border="#9CA3AF"),
        _chip(f"only {ALMOST_FULL_AT} left: almost full ({ALMOST_FULL_AT} or fewer)", bg="#F9FAFB",
              border=ALMOST_AMBER, extra=f"outline:2px solid {ALMOST_AMBER};outline-offset:-1px;font-weight:600;"),
        _chip("FULL: no places left", bg=FULL_RED, border=FULL_RED, colour="#FFFFFF", extra="font-weight:700;"),
        _chip("· 2 held: kept for a caller, not yet booked", bg="#F9FAFB", border="#9CA3AF"),
        _chip("+ 3 waiting: on the waiting list", bg="#F9FAFB", border="#9CA3AF"),
    ]
    if show_cancelled:
        states.append(_chip("cancelled", bg="#F3F4F6", border=CANCELLED_GREY,
                            extra="text-decoration:line-through;", colour=CANCELLED_GREY))
    courses = [_chip("", markup=f"{as_html(t.short_code)}: {as_html(t.name)}", bg=tint(t.colour), border=t.colour)
               for t in types]
    return (
        '<div class="legend" role="note" aria-label="Legend">'
        f'<div><b>Places</b>&nbsp; {"".join(states)}</div>'
        f'<div><b>Courses</b>&nbsp; {"".join(courses)}</div></div>'
    )


def render_legend(types: Sequence[CourseType], *, show_cancelled: bool = False) -> None:
    st.html(legend_html(types, show_cancelled=show_cancelled))
