"""What a person reads of text put on screen through ui.text."""

from __future__ import annotations

import re

from ui.text import FSI, PDI, WORD_JOINER

_INVISIBLE = {ord(c): None for c in (FSI, PDI, WORD_JOINER)}


def seen(text: str) -> str:
    """`text` (markdown made with as_text, or the page's own text) as read: backslash escapes
    undone, the invisible isolates and word joiners left out."""
    return re.sub(r"\\(.)", r"\1", text).translate(_INVISIBLE)


def seen_pattern(text: str, then: str = "") -> re.Pattern:
    """A pattern for a browser's text that reads as `text` (the invisible isolates and word
    joiners may sit anywhere in it), followed by the regular expression `then`."""
    marks = "[" + FSI + PDI + WORD_JOINER + "]*"
    return re.compile(marks.join(re.escape(ch) for ch in text) + then)
