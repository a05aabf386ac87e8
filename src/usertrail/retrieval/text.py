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
    really also again ok okay one way re ve ll
"""
# Complaints say that something is wrong, not what: "it's not working" and "nothing happens"
# matched articles by accident (any article that says "working" or "happens"), and so did
# "error", "fail" and "fix" in "what does this error mean?" (every troubleshooting article says
# them). What failed is in the behaviour, or in the question's other words ("E42", "card").
# Contractions without their apostrophe ("doesnt", "cant") and chat shorthand ("pls") are the
# same kind of scaffolding.
_COMPLAINT_WORDS = """
    work works working worked wrong broken break breaks nothing happens happen happened
    happening problem problems issue issues weird strange odd stuck bug buggy anymore
    error errors fail fails failed failing failure fix fixed mean means meaning go goes going
    gone went
    doesnt didnt dont cant cannot isnt wont wasnt arent havent doesn didn isn wasn aren
    haven won im ive pls plz ur hey
    guys sure able seems seem seemed trying tried try
"""
STOP_WORDS = frozenset(_STOP_WORDS.split()) | frozenset(_COMPLAINT_WORDS.split())


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
