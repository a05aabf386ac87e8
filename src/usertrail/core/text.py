"""Cleaning user-controlled text: bounded, single-line, no control/zero-width/bidi characters."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Cc (controls), Cf (format: zero-width, bidi overrides), Co/Cs/Cn: never useful in a label.
INVISIBLE = frozenset(("Cc", "Cf", "Co", "Cs", "Cn"))  # Unicode categories clean_text drops
_SPACES = re.compile(r"\s+")


def clean_text(text: str, limit: int = 120) -> str:
    """Strip invisible characters, collapse whitespace, and cut to `limit` with an ellipsis."""
    limit = max(limit, 1)
    if text.isprintable():  # the common case (any script), checked in C
        # A printable string has no invisible character and no whitespace but " " (every
        # code point checked, tests/core/test_text.py), so only runs of " " need the regex.
        kept = _SPACES.sub(" ", text) if "  " in text else text
    else:
        kept = _SPACES.sub(
            " ",
            "".join(
                " " if ch in "\t\n\r" else ch
                for ch in text
                if ch in "\t\n\r" or unicodedata.category(ch) not in INVISIBLE
            ),
        )
    kept = kept.strip()
    return kept if len(kept) <= limit else kept[: limit - 1].rstrip() + "…"


def quote(text: str) -> str:
    """'text' for labels; inner quotes become typographic so the quoting cannot be closed."""
    return "'" + text.replace("'", "’") + "'"


@lru_cache(maxsize=4096)  # a product has a few hundred identifiers, seen on every event
def humanize(identifier: str) -> str:
    """plan-picker / plan_picker / planPicker -> "Plan picker"."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", identifier)
    words = re.sub(r"[-_.\s]+", " ", spaced).strip().lower()
    return words[:1].upper() + words[1:]


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def times(n: int) -> str:
    """1 -> "once", 2 -> "twice", 5 -> "5 times"."""
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def ordinal(n: int) -> str:
    """1 -> "1st", 2 -> "2nd", 11 -> "11th", 23 -> "23rd"."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def duration_words(seconds: int) -> str:
    """One wording for a session's length, shared by the prompt and the dashboard so they never
    disagree: 16 -> "16 seconds", 900 -> "15 minutes", 5400 -> "1.5 hours"."""
    if seconds < 60:
        return plural(max(seconds, 1), "second")
    if seconds < 3600:
        return plural(round(seconds / 60), "minute")
    hours = round(seconds / 3600, 1)
    return f"{hours:g} hour" + ("" if hours == 1 else "s")
