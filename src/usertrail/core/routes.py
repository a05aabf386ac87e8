"""URL path -> route template: `/projects/123/settings` -> `/projects/:id/settings`.

Project rules (PostHog's path cleaning: `re.sub(regex, alias, path)`, in order) run first; then
heuristics replace segments that look like ids: numbers, UUIDs, long hex, dates, emails, and long
opaque tokens. Readable slugs (`getting-started-2024`) are kept: they name the page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import urlsplit

from usertrail.model.config import PathRule

MAX_PATH_CHARS = 2000
_UUID = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)
_NUMBER = re.compile(r"\d+")
_HEX = re.compile(r"(?=[a-fA-F]*\d)[0-9a-fA-F]{8,}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:T[\d:.]+Z?)?")
_EMAIL = re.compile(r"[^@\s/]+(?:@|%40)[^@\s/]+\.[A-Za-z]{2,}")
_OPAQUE = re.compile(r"(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_-]{16,}")
_SLUG_WORD = re.compile(r"[a-z]+|\d{1,4}")


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
    """Never raises; a trailing slash is dropped so `/settings/` and `/settings` are one route."""
    path = path[:MAX_PATH_CHARS]
    for rule in rules:
        path = _clean(path, rule)
    return _template(path)


@lru_cache(maxsize=8192)
def _template(path: str) -> str:
    segments = [_template_segment(s) for s in path.split("/")]
    route = "/".join(segments).rstrip("/")
    return route if route.startswith("/") else "/" + route


def _clean(path: str, rule: PathRule) -> str:
    try:
        return _compiled(rule.regex).sub(rule.alias, path)
    except (re.error, IndexError):  # validated at load; a rule built in code may still be bad
        return path


def _template_segment(segment: str) -> str:
    if not segment or segment.startswith(":"):
        return segment
    if _DATE.fullmatch(segment):
        return ":date"
    if _EMAIL.fullmatch(segment):
        return ":email"
    if _NUMBER.fullmatch(segment) or _UUID.fullmatch(segment) or _HEX.fullmatch(segment):
        return ":id"
    if _OPAQUE.fullmatch(segment) and not _is_slug(segment):
        return ":id"
    return segment


def _is_slug(segment: str) -> bool:
    """Lower-case words and short numbers joined by `-`/`_`: written by people, not machines."""
    words = re.split(r"[-_]", segment)
    return len(words) > 1 and all(_SLUG_WORD.fullmatch(w) for w in words)


@lru_cache(maxsize=256)
def _compiled(regex: str) -> re.Pattern[str]:
    return re.compile(regex)
