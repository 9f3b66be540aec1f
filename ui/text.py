"""People's text on screen, shown as typed: the one way every page puts it there.

Streamlit reads markdown in nearly everything it draws (st.markdown, captions, alerts,
headings, expander titles, button labels, help tooltips, toasts, radio options), and with
it LaTeX (`$...$`), its own `:red[...]` and `:material/icon:` directives, and bare URLs,
`www.` names and e-mail addresses, which it turns into links. A course name, a note, a
contact's name or a value from the link's query string must show as the characters typed,
never as formatting or a link, and must not reorder the app's own words around it.

- `as_text(value)` is for markdown (every Streamlit text element and label). Markdown
  punctuation and `$` are backslash-escaped. Escapes alone do not stop the bare-URL links
  (measured in Chromium: `https\\://evil\\.example` still became a link, because the
  links are found in the text after the escapes are undone), so a word joiner (U+2060,
  invisible) follows every `:` before a letter or `/` (`https://`, `:material/`)
  and every `@`, and separates `www` from its dot. The value is
  wrapped in FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE, the plain-text form of
  `<bdi>`: a right-to-left override inside it ends at its end.
- `as_html(value)` is for HTML drawn with st.html (no markdown there): HTML-escaped,
  inside `<bdi>`.
- `isolated(value)` is for the few places that show plain text (selectbox and multiselect
  options, table cells): only the isolation, since an escape would show as a backslash.
"""

from __future__ import annotations

import html
import re

FSI, PDI, WORD_JOINER = "\u2068", "\u2069", "\u2060"
_MARKDOWN = set("\\`*_{}[]<>()#+-.!|~:$&^")
_LINK_START = re.compile(r"(?<=:)(?=[/A-Za-z])|(?<=@)|(?i:(?<=www)(?=\\\.))")


def as_text(value: object) -> str:
    """`value` for a markdown context: shown literally, isolated from the text around it."""
    escaped = "".join("\\" + ch if ch in _MARKDOWN else ch for ch in _one_line(value))
    return FSI + _LINK_START.sub(WORD_JOINER, escaped) + PDI


def as_html(value: object) -> str:
    """`value` for HTML (st.html): escaped, isolated in a <bdi>."""
    return f"<bdi>{html.escape(_one_line(value))}</bdi>"


def html_line(*values: object, muted: bool = False) -> str:
    """A line of values for st.html, ' · ' between them (empty ones left out), each escaped
    and isolated: copied, it is exactly the characters shown (an e-mail stays an e-mail)."""
    shown = " · ".join(as_html(v) for v in values if v not in (None, ""))
    style = ' style="opacity:0.65"' if muted else ""
    return f'<div class="people-line"{style}>{shown}</div>'


def isolated(value: object) -> str:
    """`value` for plain text (selectbox options, table cells): isolated, nothing escaped."""
    return FSI + _one_line(value) + PDI


def _one_line(value: object) -> str:
    # A line break in a name or note would end a markdown paragraph or start a heading.
    return " ".join(str(value).splitlines())
