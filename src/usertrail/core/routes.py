"""URL path -> route template: `/projects/123/settings` -> `/projects/:id/settings`.

Project rules (PostHog's path cleaning: regex + alias) run first; then heuristics replace
segments that look like ids: numbers, UUIDs, long hex, dates, and long opaque tokens.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import urlsplit

from usertrail.model.config import PathRule

_UUID = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)
_NUMBER = re.compile(r"\d+")
_HEX = re.compile(r"(?=.*\d)[0-9a-fA-F]{8,}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(T[\d:.]+Z?)?")
_OPAQUE = re.compile(r"(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_-]{16,}")
MAX_PATH_CHARS = 2000


def path_of(url: str | None) -> str | None:
    """The path of a URL (no query, no fragment); None when there is none."""
    if not url or not isinstance(url, str):
        return None
    try:
        path = urlsplit(url[:MAX_PATH_CHARS]).path
    except ValueError:
        return None
    return path or "/"


def route_template(path: str, rules: Sequence[PathRule] = ()) -> str:
    for rule in rules:
        try:
            path = _compiled(rule.regex).sub(rule.alias, path)
        except re.error:
            continue
    segments = [_template_segment(s) for s in path.split("/")]
    return "/".join(segments) or "/"


def _template_segment(segment: str) -> str:
    if not segment or segment.startswith(":"):
        return segment
    if _DATE.fullmatch(segment):
        return ":date"
    if _NUMBER.fullmatch(segment) or _UUID.fullmatch(segment) or _HEX.fullmatch(segment):
        return ":id"
    if _OPAQUE.fullmatch(segment):
        return ":id"
    return segment


@lru_cache(maxsize=256)
def _compiled(regex: str) -> re.Pattern[str]:
    return re.compile(regex)
