"""PostHog's `$elements_chain` (and the older `$elements` array) -> Elements.

Grammar, as PostHog's `chain_to_element_dicts` (posthog/models/element/element.py) reads it:
elements are separated by `;` (or whitespace) outside double quotes, clicked element first; each
is `tag.class.class`, then, from the first `:` that starts a `key=` pair, `key="value"` pairs with
no separator. posthog-js escapes `"` in values as `\\"`. Tailwind classes may contain `:`
(`hover:bg-blue-500`); they are told apart from the attribute section because `key=` must follow
the colon. Keys: `text`, `href`, `attr_id`, `nth-child`, `nth-of-type`, and `attr__<name>`.

PostHog's regexes backtrack quadratically on malformed input (a 60 kB chain took 15 s), so the
same grammar is read here in linear time: a quoted run may end at the end of input (the rest of
a malformed chain is then one element), and attribute pairs are scanned with `str.find`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from usertrail.model.event import Element

MAX_ELEMENTS = 64
MAX_ATTRIBUTES = 64
MAX_CLASSES = 32
MAX_VALUE_CHARS = 400
MAX_CHAIN_CHARS = 64_000
_CACHED_CHAIN_CHARS = 8_000  # longer chains are parsed every time, so the cache stays small

_SPLIT_CHAIN = re.compile(r'(?:[^\s;"]+|"(?:[^"\\]|\\[\s\S]?)*(?:"|\Z))+')
_SPLIT_CLASS_ATTRIBUTES = re.compile(r"(.*?)(?:$|:([a-zA-Z\-_0-9]*=.*))", re.DOTALL)
_VALUE = re.compile(r'((?:[^"\\]|\\[\s\S])*)"')
_PROMOTED = {"text": "text", "href": "href", "attr_id": "attr_id"}


def parse_elements_chain(chain: str) -> tuple[Element, ...]:
    """Never raises: unparseable parts are skipped, sizes are bounded."""
    if not isinstance(chain, str) or not chain:
        return ()
    if len(chain) <= _CACHED_CHAIN_CHARS:
        return _parse_cached(chain)
    return _parse(chain[:MAX_CHAIN_CHARS])


@lru_cache(maxsize=4096)
def _parse_cached(chain: str) -> tuple[Element, ...]:
    """A product's chains repeat (the same buttons are clicked again and again)."""
    return _parse(chain)


def _parse(chain: str) -> tuple[Element, ...]:
    elements: list[Element] = []
    for match in _SPLIT_CHAIN.finditer(chain):
        element = _element(match.group())
        if element is not None:
            elements.append(element)
            if len(elements) == MAX_ELEMENTS:
                break
    return tuple(elements)


def _element(text: str) -> Element | None:
    match = _SPLIT_CLASS_ATTRIBUTES.match(text)
    if match is None:  # pragma: no cover - the pattern matches every string
        return None
    tag, _, classes = match.group(1).partition(".")
    fields: dict[str, Any] = {"tag": tag[:MAX_VALUE_CHARS]}
    if classes:
        fields["classes"] = tuple(c[:MAX_VALUE_CHARS] for c in classes.split(".") if c)[
            :MAX_CLASSES
        ]
    extra: dict[str, str] = {}
    for key, value in _pairs(match.group(2) or ""):
        _assign(fields, extra, key, value[:MAX_VALUE_CHARS])
    if not tag and len(fields) == 1 and not extra:
        return None
    return Element(**fields, attributes=extra)


def _pairs(section: str) -> list[tuple[str, str]]:
    """`key="value"` pairs, back to back; `\\"` inside a value is a literal quote."""
    pairs: list[tuple[str, str]] = []
    start = 0
    while len(pairs) < MAX_ATTRIBUTES:
        equals = section.find('="', start)
        if equals < 0:
            break
        value = _VALUE.match(section, equals + 2)
        if value is None:  # an unclosed value: nothing after it can be read
            break
        pairs.append((section[start:equals], value.group(1).replace('\\"', '"')))
        start = value.end()
    return pairs


def _assign(fields: dict[str, Any], extra: dict[str, str], key: str, value: str) -> None:
    if key in _PROMOTED:
        fields[_PROMOTED[key]] = value
    elif key in ("nth-child", "nth-of-type"):
        if value.isdigit() and len(value) < 7:
            fields[key.replace("-", "_")] = int(value)
    elif key.startswith("attr__"):
        extra[key[6:]] = value
    elif key:
        extra[key[:MAX_VALUE_CHARS]] = value


def elements_from_array(elements: Any) -> tuple[Element, ...]:
    """The older `$elements` property: a list of dicts with `tag_name`, `$el_text`,
    `attr__class`, `attr__id`, `attr__href`, `nth_child`, `nth_of_type` and `attr__*`."""
    if not isinstance(elements, list):
        return ()
    found = (_from_dict(d) for d in elements[:MAX_ELEMENTS])
    return tuple(el for el in found if el is not None)


def _from_dict(d: Any) -> Element | None:
    if not isinstance(d, dict):
        return None
    attrs = {
        k[6:]: str(v)[:MAX_VALUE_CHARS]
        for k, v in list(d.items())[: MAX_ATTRIBUTES * 2]
        if isinstance(k, str) and k.startswith("attr__") and _scalar(v)
    }
    return Element(
        tag=_str(d.get("tag_name")) or "",
        text=_str(d.get("$el_text")) or _str(d.get("text")),
        classes=_classes(d.get("attr__class") or d.get("attr_class") or d.get("classes")),
        attr_id=_str(d.get("attr_id")) or attrs.get("id"),
        href=_str(d.get("href")) or attrs.get("href"),
        nth_child=_int(d.get("nth_child")),
        nth_of_type=_int(d.get("nth_of_type")),
        attributes=dict(list(attrs.items())[:MAX_ATTRIBUTES]),
    )


def _classes(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, list | tuple):
        return ()
    return tuple(str(c)[:MAX_VALUE_CHARS] for c in value if _scalar(c) and c != "")[:MAX_CLASSES]


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _str(value: Any) -> str | None:
    return str(value)[:MAX_VALUE_CHARS] if _scalar(value) and value != "" else None


def _int(value: Any) -> int | None:
    if isinstance(value, str) and value.isdigit() and len(value) < 7:
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None
