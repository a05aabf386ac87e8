"""Rule 6: every user-controlled string that reaches a prompt is bounded, cleaned, masked and
quoted as data."""

from __future__ import annotations

import re
import unicodedata

from usertrail.core.redact import redact

MAX_CHARS = 120
# Cc (controls), Cf (format: zero-width, bidi overrides), Co/Cs/Cn: never useful in a prompt.
_DROP = frozenset(("Cc", "Cf", "Co", "Cs", "Cn"))
_SPACES = re.compile(r"\s+")


def clean(text: str, limit: int = MAX_CHARS) -> str:
    """Strip control, zero-width and bidi characters, collapse whitespace, bound the length."""
    kept = "".join(" " if ch in "\t\n\r" else ch for ch in text
                   if ch in "\t\n\r" or unicodedata.category(ch) not in _DROP)
    kept = _SPACES.sub(" ", kept).strip()
    return kept if len(kept) <= limit else kept[: limit - 1].rstrip() + "…"


def safe(text: str | None, *, mask_pii: bool = True, limit: int = MAX_CHARS) -> str | None:
    if text is None:
        return None
    cleaned = clean(text, limit)
    return redact(cleaned) if mask_pii else cleaned


def quoted(text: str) -> str:
    """Quote as data for Markdown: inline code cannot be closed by the text inside it."""
    return "`" + text.replace("`", "'") + "`"
