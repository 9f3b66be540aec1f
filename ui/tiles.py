"""Compact count tiles that wrap two by two on a phone instead of stacking one a screen."""

from __future__ import annotations

import html
from collections.abc import Sequence

import streamlit as st

_TILE = ("flex:1 1 100px;min-width:88px;border:1px solid #E5E7EB;border-radius:8px;"
         "padding:6px 12px;background:#FFFFFF")


def tiles_html(items: Sequence[tuple[str, object, str]]) -> str:
    """items: (label, value, colour of the value)."""
    cells = "".join(
        f'<div class="tile" style="{_TILE}"><div style="font-size:0.85rem;color:#4B5563">{html.escape(label)}</div>'
        f'<div class="tile-value" style="font-size:1.6rem;font-weight:600;color:{colour}">{html.escape(str(value))}</div></div>'
        for label, value, colour in items
    )
    return f'<div class="tiles" style="display:flex;flex-wrap:wrap;gap:8px;margin:4px 0 8px">{cells}</div>'


def tiles(items: Sequence[tuple[str, object, str]]) -> None:
    st.html(tiles_html(items))
