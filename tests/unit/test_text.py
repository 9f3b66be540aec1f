"""ui.text: people's text is shown as typed, in markdown and in HTML, apart from the words around it."""

from __future__ import annotations

import pytest

from core import validation
from core.errors import InvalidInput
from tests.e2e.seen import seen
from ui.text import FSI, PDI, WORD_JOINER, as_html, as_text, isolated

HOSTILE = ["**bold**", "_it_", "$\\LaTeX$", "[x](javascript:alert(1))", "[Log in](https://evil.example)",
           "https://evil.example", "www.evil.example", "x@evil.example", "<https://evil.example>",
           ":red[red] :material/home:", "# heading", "`code`", "<script>alert(1)</script>", "O'Brien & Co"]


@pytest.mark.parametrize("typed", HOSTILE)
def test_markdown_text_reads_back_as_typed_and_is_isolated(typed):
    shown = as_text(typed)
    assert shown.startswith(FSI) and shown.endswith(PDI)
    assert seen(shown) == typed


@pytest.mark.parametrize("typed", ["https://evil.example", "HTTP://evil.example", "www.evil.example",
                                   "WWW.evil.example", "x@evil.example", ":material/home:"])
def test_the_starts_of_links_and_icons_are_broken_by_an_invisible_joiner(typed):
    shown = as_text(typed)
    assert WORD_JOINER in shown
    for start in ("://", "www\\.", "WWW\\.", "@e", ":m"):
        assert start not in shown.replace("\\:", ":")


def test_markdown_text_is_one_line():
    assert seen(as_text("first\n# second")) == "first # second"


def test_html_text_is_escaped_inside_a_bdi():
    assert as_html("<img src=x onerror=alert(1)> & \u202eabc") == (
        "<bdi>&lt;img src=x onerror=alert(1)&gt; &amp; \u202eabc</bdi>")


def test_plain_text_is_only_isolated():
    assert isolated("**x**") == f"{FSI}**x**{PDI}"


@pytest.mark.parametrize("mark", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
                                  "\u2069", "\u200e", "\u200f", "\u061c"])
def test_marks_that_reorder_text_are_refused_naming_the_field(mark):
    with pytest.raises(InvalidInput) as caught:
        validation.text(f"Acme{mark} Ltd", "company", "Company", required=False)
    assert caught.value.field == "company"
    assert "Company contains invisible marks" in str(caught.value)


def test_accents_and_right_to_left_letters_are_still_accepted():
    assert validation.text("Zoë Ó Briain · شركة", "company", "Company", required=False) == "Zoë Ó Briain · شركة"
