"""Words for search: tokens, stop words, and the normalized form ties are compared in. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile(r"[a-z0-9]+")

# Function words and question scaffolding: they carry no topic ("why did it fail?" is about
# "fail"). Kept short on purpose; product words ("report", "export") are never here.
_STOP_WORDS = """
    a about above after again all am an and any are as at be been before being below between
    both but by can could did do does doing don during each few for from further had has
    have having he her here hers him his how i if in into is it its itself just let me more
    most my myself no nor not now of off on once only or other our ours out over own same she
    should so some such than that the their theirs them then there these they this those
    through to too under until up very was we were what when where which while who whom why
    will with would you your yours yourself anything something someone thing things get got
    getting want wanted need needs please help hi hello thanks thank still keep keeps kept
    really also again ok okay one way
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())


def words(text: str) -> list[str]:
    """Lower-case alphanumeric tokens, in order."""
    return _WORD.findall(text.lower())


def terms(text: str) -> list[str]:
    """The topic words of a text: no stop words, no repeats, in order."""
    return dedupe(w for w in words(text) if w not in STOP_WORDS and (len(w) > 1 or w.isdigit()))


def dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def norm(text: str) -> str:
    """ "Report_export", "report export", "Report-Export" -> "report export"."""
    return " ".join(words(text))


def contains_phrase(haystack: str, needle: str) -> bool:
    """Whether the normalized needle occurs in the normalized haystack as whole words."""
    n = norm(needle)
    return bool(n) and f" {n} " in f" {norm(haystack)} "
