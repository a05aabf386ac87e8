"""What an id may hold: one rule for every edge (capture, webhook, URLs, MCP, request bodies).

A distinct id is 1 to MAX_ID_CHARS characters of text, after trimming whitespace, with no
control character (U+0000-U+001F, U+007F) and no lone surrogate. The rule exists because the
two stores must agree: PostgreSQL text cannot hold NUL (an event with one could be stored raw
and then fail every processing attempt), and a longer id used to be cut at 200 characters,
which joined two people who shared a prefix. So a longer id is refused, never cut. `/`, `%`,
spaces and any other Unicode are ordinary characters.
"""

from __future__ import annotations

import re
import uuid as uuidlib

from usertrail.errors import BadPayload

MAX_ID_CHARS = 200  # PostHog's own bound on distinct ids; past it we refuse rather than cut
ID_RULE = (
    f"an id is 1 to {MAX_ID_CHARS} characters, without control characters (U+0000-U+001F, U+007F)"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The rule as JSON Schema, for the OpenAPI document: not blank, no control character.
ID_SCHEMA = {
    "minLength": 1,
    "maxLength": MAX_ID_CHARS,
    "pattern": r"^[^\u0000-\u001f\u007f]*[^\s\u0000-\u001f\u007f][^\u0000-\u001f\u007f]*$",
}


def id_problem(text: str) -> str | None:
    """Why `text` cannot be an id, or None when it can."""
    if not text.strip():
        return "the id is empty"
    if len(text) > MAX_ID_CHARS:
        return f"the id is {len(text)} characters long"
    if _CONTROL.search(text):
        return "the id holds a control character"
    if not text.isascii() and not _encodable(text):
        return "the id holds a lone surrogate"
    return None


def checked_id(text: str) -> str:
    """`text` unchanged when it is a valid id; else BadPayload naming the rule."""
    problem = id_problem(text)
    if problem is not None:
        raise BadPayload(f"{problem}: {ID_RULE}")
    return text


def is_valid_id(text: str) -> bool:
    return id_problem(text) is None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def checked_uuid(text: str) -> str:
    """An event uuid as the raw log stores it (canonical, lowercase); BadPayload otherwise."""
    try:
        return str(uuidlib.UUID(text))
    except ValueError:
        raise BadPayload(f"{text[:40]!r} is not a uuid") from None
