"""PostHog's `$elements_chain` (and the older `$elements` array) -> Elements.

Grammar, as PostHog's own `chain_to_elements` reads it: elements are separated by `;` (or
whitespace) outside double quotes, clicked element first; each is `tag.class.class` then, after
the first `:` that starts a `key=` pair, `key="value"` pairs with no separator. Values escape `"`
as `\\"`. Tailwind classes may contain `:` (`hover:bg-blue-500`); they are told apart from the
attribute section because `key=` must follow the colon.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from usertrail.model.event import Element

MAX_ELEMENTS = 64
MAX_VALUE_CHARS = 400
MAX_CHAIN_CHARS = 64_000

_SPLIT_CHAIN = re.compile(r'(?:[^\s;"]|"(?:\\.|[^"\\])*")+')
_SPLIT_CLASS_ATTRIBUTES = re.compile(r"(.*?)($|:([a-zA-Z\-_0-9]*=.*))", re.DOTALL)
_ATTRIBUTES = re.compile(r'([^=":]+?)="((?:\\.|[^"\\])*)"')


@lru_cache(maxsize=8192)
def parse_elements_chain(chain: str) -> tuple[Element, ...]:
    """Never raises: unparseable parts are skipped, sizes are bounded. Cached: a product's
    chains repeat (the same buttons are clicked again and again) and the result is frozen."""
    if not isinstance(chain, str) or not chain:
        return ()
    found = _SPLIT_CHAIN.findall(chain[:MAX_CHAIN_CHARS])[:MAX_ELEMENTS]
    return tuple(el for el in (_element(s) for s in found) if el is not None)


def _element(text: str) -> Element | None:
    match = _SPLIT_CLASS_ATTRIBUTES.match(text)
    if match is None:
        return None
    head, attrs = match.group(1), match.group(3) or ""
    tag, _, classes = head.partition(".")
    fields: dict[str, Any] = {
        "tag": tag or "",
        "classes": tuple(c for c in classes.split(".") if c),
    }
    extra: dict[str, str] = {}
    for key, raw in _ATTRIBUTES.findall(attrs):
        _assign(fields, extra, key.strip(), raw.replace('\\"', '"')[:MAX_VALUE_CHARS])
    if not fields["tag"] and not extra and len(fields) == 2:
        return None
    return Element(**fields, attributes=extra)


def _assign(fields: dict[str, Any], extra: dict[str, str], key: str, value: str) -> None:
    if key == "text":
        fields["text"] = value
    elif key == "href":
        fields["href"] = value
    elif key == "attr_id":
        fields["attr_id"] = value
    elif key in ("nth-child", "nth-of-type"):
        if value.isdigit() and len(value) < 7:
            fields[key.replace("-", "_")] = int(value)
    elif key.startswith("attr__"):
        extra[key[6:]] = value
    elif key:
        extra[key] = value


def elements_from_array(elements: Any) -> tuple[Element, ...]:
    """The older `$elements` property: a list of dicts with `tag_name`, `$el_text`, `attr__*`."""
    if not isinstance(elements, list):
        return ()
    return tuple(el for el in (_from_dict(d) for d in elements[:MAX_ELEMENTS]) if el is not None)


def _from_dict(d: Any) -> Element | None:
    if not isinstance(d, dict) or not isinstance(d.get("tag_name"), str):
        return None
    attrs = {
        k[6:]: str(v)[:MAX_VALUE_CHARS]
        for k, v in d.items()
        if isinstance(k, str) and k.startswith("attr__") and v is not None
    }
    classes = d.get("attr__class") or d.get("classes") or ()
    if isinstance(classes, str):
        classes = classes.split()
    return Element(
        tag=d["tag_name"],
        text=_str(d.get("$el_text") or d.get("text")),
        classes=tuple(str(c) for c in classes if c)[:32]
        if isinstance(classes, list | tuple)
        else (),
        attr_id=_str(d.get("attr_id") or attrs.get("id")),
        href=_str(d.get("href") or attrs.get("href")),
        nth_child=_int(d.get("nth_child")),
        nth_of_type=_int(d.get("nth_of_type")),
        attributes=attrs,
    )


def _str(value: Any) -> str | None:
    return (
        str(value)[:MAX_VALUE_CHARS]
        if isinstance(value, str | int | float) and value != ""
        else None
    )


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
