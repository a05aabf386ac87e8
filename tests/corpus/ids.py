"""Mutation families on ids (core.ids): what a distinct id may hold, the same on SQLite and
PostgreSQL. Control characters and ids past 200 characters are refused with the rule named;
any other Unicode (`/`, `%2F`, `%00` as text, emoji, right-to-left marks) is stored whole and
reads back over HTTP; a merge naming an impossible id is processed without merging."""

from __future__ import annotations

from random import Random

from tests.corpus.cases import Draft, draft, pick
from tests.corpus.shapes import base, dumps, splice
from tests.corpus.structure import _set_id, one_event

CONTROL = ["\x00", "\x01", "\x1f", "\x7f", "\n", "\t", "\r", "\x1b[31m"]
ODD_IDS = [
    "team/acme/josé", "a/b", "/leading", "trailing/", "a//b", "a%2Fb", "%00", "100%", "%",
    "😀", "用户-42", "\u202eevil", "\u200bzero", "a?b#c", "a b", "..", ".", "../etc/passwd",
    "back\\slash", "<script>", "'quoted'", "\"dq\"", "ß", "İ", "\ufeffbom", "x" * 200,
    "😀" * 200, "a\u0301", "+", "&=;", "~user",
]  # fmt: skip


def id_control_chars(rng: Random, cid: str) -> Draft:
    """A control character anywhere in the id: PostgreSQL text cannot hold NUL, and the
    others make ids that print, log and travel in headers differently."""
    b = base(rng, cid)
    inner = pick(rng, CONTROL)
    # Inside the id: at either end, whitespace controls (\n, \t) are trimmed like spaces.
    value = pick(rng, [f"u{inner}1", "\x00u", "u\x7f", f"user-{rng.randrange(99)}{inner}x"])
    _set_id(rng, one_event(rng, b), "__corpus_splice__")
    return draft(b, splice(b.payload, dumps(value)))


def id_too_long(rng: Random, cid: str) -> Draft:
    """Past 200 characters an id is refused, never cut (two ids would become one person)."""
    b = base(rng, cid)
    length = pick(rng, [201, 256, 1000, 10_000])
    _set_id(rng, one_event(rng, b), pick(rng, ["x", "é", "😀"]) * length)
    return draft(b)


def id_any_unicode(rng: Random, cid: str) -> Draft:
    """Within the rule, any text is an id, stored whole: each case's id is its own."""
    b = base(rng, cid)
    odd = pick(rng, ODD_IDS)
    suffix = f"~{cid}"
    value = (odd + suffix) if len(odd) + len(suffix) <= 200 else odd[: 200 - len(suffix)] + suffix
    for event in b.events:
        _set_id(rng, event, value)
    return draft(b)


def merge_with_impossible_id(rng: Random, cid: str) -> Draft:
    """`$identify` or `$create_alias` naming an id no store could hold: the event is kept and
    processed, the merge ignored (it failed every processing attempt on PostgreSQL)."""
    b = base(rng, cid)
    event = one_event(rng, b)
    other = pick(rng, ["anon\x00id", "\x00", "x" * 10_000, "a\x1fb", "\x7f"])
    if rng.random() < 0.5:
        event["event"], key = "$identify", "$anon_distinct_id"
    else:
        event["event"], key = pick(rng, ["$create_alias", "$merge_dangerously"]), "alias"
    event["properties"][key] = other
    return draft(b)
