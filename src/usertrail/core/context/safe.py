"""Rule 6: every user-controlled string that reaches a prompt is bounded, cleaned, masked and
quoted as data."""

from __future__ import annotations

from usertrail.core.redact import redact
from usertrail.core.text import clean_text

MAX_CHARS = 120


def safe(text: str | None, *, mask_pii: bool = True, limit: int = MAX_CHARS) -> str | None:
    if text is None:
        return None
    cleaned = clean_text(text, limit)
    return redact(cleaned) if mask_pii else cleaned


def quoted(text: str) -> str:
    """Quote as data for Markdown: inline code cannot be closed by the text inside it."""
    return "`" + text.replace("`", "'") + "`"
