"""The small CSS subset a project file uses to name things: `tag`, `.class`, `#id`,
`[attr]`, `[attr=value]`, combined (`div.plan-card[data-x=y]`), or `'text'` for visible text."""

from __future__ import annotations

import re
from functools import lru_cache

import msgspec

from usertrail.model.event import Element

_PART = re.compile(
    r"""(?P<tag>^[a-zA-Z][\w-]*)|\.(?P<cls>[\w:-]+)|#(?P<id>[\w-]+)|\[(?P<attr>[\w-]+)(?:=["']?(?P<val>[^"'\]]*)["']?)?\]"""
)


class Selector(msgspec.Struct, frozen=True):
    tag: str | None = None
    classes: tuple[str, ...] = ()
    id: str | None = None
    attrs: tuple[tuple[str, str | None], ...] = ()
    text: str | None = None


@lru_cache(maxsize=512)
def parse_selector(source: str) -> Selector:
    source = source.strip()
    if len(source) >= 2 and source[0] == source[-1] == "'":
        return Selector(text=source[1:-1])
    tag, classes, id_, attrs = None, [], None, []
    for m in _PART.finditer(source):
        if m.group("tag"):
            tag = m.group("tag").lower()
        elif m.group("cls"):
            classes.append(m.group("cls"))
        elif m.group("id"):
            id_ = m.group("id")
        elif m.group("attr"):
            attrs.append((m.group("attr"), m.group("val")))
    return Selector(tag=tag, classes=tuple(classes), id=id_, attrs=tuple(attrs))


def matches(selector: Selector, el: Element) -> bool:
    if selector.text is not None:
        return (el.text or "").strip().lower() == selector.text.strip().lower()
    if selector.tag and el.tag.lower() != selector.tag:
        return False
    if selector.id and (el.attr_id or el.attributes.get("id")) != selector.id:
        return False
    if any(c not in el.classes for c in selector.classes):
        return False
    return all(_attr_ok(el, name, value) for name, value in selector.attrs)


def _attr_ok(el: Element, name: str, value: str | None) -> bool:
    actual = el.attributes.get(name)
    if name == "id":
        actual = actual or el.attr_id
    return actual is not None and (value is None or actual == value)


def first_match(selectors: dict[str, str], chain: tuple[Element, ...]) -> str | None:
    """The name of the first configured selector matching an element of the chain, nearest
    the clicked element first."""
    for el in chain:
        for source, name in selectors.items():
            if matches(parse_selector(source), el):
                return name
    return None
