"""clean_text: its fast path (printable text) gives what the per-character path gives."""

from __future__ import annotations

import re
import sys
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from usertrail.core.text import INVISIBLE, clean_text


def test_a_printable_character_is_never_dropped_nor_a_space_but_the_space() -> None:
    """What lets clean_text keep a printable text as it is, in any script: checked for every
    code point of this Python's Unicode database."""
    whitespace = re.compile(r"\s")
    odd = [
        cp
        for cp in range(sys.maxunicode + 1)
        if (ch := chr(cp)).isprintable()
        and (unicodedata.category(ch) in INVISIBLE or (ch != " " and whitespace.match(ch)))
    ]
    assert odd == []


@settings(max_examples=500)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40), st.integers(-2, 30))
def test_clean_text_equals_the_per_character_cleaning(text: str, limit: int) -> None:
    assert clean_text(text, limit) == _per_character(text, limit)


def test_printable_text_of_any_script_is_kept_with_its_runs_of_spaces_collapsed() -> None:
    assert clean_text("  Über   die  Brücke 日本 ") == "Über die Brücke 日本"
    assert clean_text("a\u00a0\u2028b\u200bc") == "a bc"  # no-break space, line sep., ZWSP


def _per_character(text: str, limit: int) -> str:
    """clean_text's general path, for any text."""
    kept = "".join(
        " " if ch in "\t\n\r" else ch
        for ch in text
        if ch in "\t\n\r" or unicodedata.category(ch) not in INVISIBLE
    )
    kept = re.sub(r"\s+", " ", kept).strip()
    limit = max(limit, 1)
    return kept if len(kept) <= limit else kept[: limit - 1].rstrip() + "…"
