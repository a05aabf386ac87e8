"""Page -> component -> element: where a click happened, in words a person would use."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

from usertrail.core.selectors import first_match
from usertrail.core.text import clean_text, humanize, quote
from usertrail.model.config import ProjectConfig
from usertrail.model.event import Element

ELEMENT_TEXT_CHARS = 80
_ROLES = {
    "a": "link",
    "button": "button",
    "select": "dropdown",
    "textarea": "field",
    "img": "image",
    "svg": "icon",
    "path": "icon",
    "li": "list item",
    "label": "label",
    "option": "option",
    "summary": "disclosure",
}
_INPUT_ROLES = {
    "submit": "button",
    "button": "button",
    "checkbox": "checkbox",
    "radio": "radio",
    "reset": "button",
    "image": "button",
}
_INNER_TAGS = frozenset(("svg", "path", "span", "i", "img", "strong", "em", "b", "small", "use"))
_LANDMARKS = {
    "nav": "Navigation",
    "header": "Header",
    "footer": "Footer",
    "aside": "Sidebar",
    "form": "Form",
    "dialog": "Dialog",
    "table": "Table",
    "menu": "Menu",
}
_LANDMARK_ROLES = {
    "navigation": "Navigation",
    "banner": "Header",
    "contentinfo": "Footer",
    "complementary": "Sidebar",
    "dialog": "Dialog",
    "alertdialog": "Dialog",
    "menu": "Menu",
    "menubar": "Menu",
    "tablist": "Tabs",
    "toolbar": "Toolbar",
    "search": "Search",
    "form": "Form",
}
# Ids every app has on its layout shells: they name no component.
_GENERIC_IDS = frozenset(
    (
        "root",
        "app",
        "__next",
        "__nuxt",
        "main",
        "content",
        "container",
        "wrapper",
        "layout",
        "page",
        "view",
    )
)
_VALUE_ROLES = frozenset(("button",))  # an input's value is what the user typed, unless a button
_FILE_SUFFIX = re.compile(r"\.(html?|php|aspx?|jsp)$", re.IGNORECASE)
_COMPONENT_ATTRS = ("data-ph-component", "data-component", "data-testid", "data-attr")
# posthog-js records `data-ph-capture-attribute-<name>="value"` for the product to label clicks.
_CAPTURE_ATTRIBUTE = "data-ph-capture-attribute-"
# The page's main content landmark is the page itself, never a component ("in View").
_PAGE_LANDMARKS = frozenset(("main", "body", "html"))


def page_name(route: str | None, config: ProjectConfig, title: str | None = None) -> str | None:
    """Configured name for the route (exact, then glob), else a name made from the path."""
    if route is None:
        return clean_text(title, 60) if title else None
    if route in config.pages:
        return config.pages[route]
    for pattern, name in config.pages.items():
        if fnmatchcase(route, pattern):
            return name
    segments = [s for s in route.split("/") if s and not s.startswith(":")]
    if not segments:
        return "Home"
    return clean_text(humanize(_FILE_SUFFIX.sub("", segments[-1])), 60) or "Home"


def target_index(chain: tuple[Element, ...]) -> int:
    """The element the user meant: a click on an icon inside a button is a click on the button."""
    if chain and chain[0].tag.lower() in _INNER_TAGS:
        for i, el in enumerate(chain[1:4], start=1):
            if el.tag.lower() in ("a", "button") or el.attributes.get("role") == "button":
                return i
    return 0


def role(el: Element) -> str:
    explicit = el.attributes.get("role")
    if explicit:
        return clean_text(explicit, 20)
    tag = el.tag.lower()
    if tag == "input":
        return _INPUT_ROLES.get(el.attributes.get("type", "").lower(), "field")
    return _ROLES.get(tag) or clean_text(tag, 20) or "element"


def visible_text(chain: tuple[Element, ...], index: int) -> str | None:
    """What names the element: its text, else what the page says about it when it has none
    (an image's alt text, a title, PostHog's `data-ph-capture-attribute-*` values...)."""
    el = chain[index] if chain else None
    if el is None:
        return None
    inner = chain[0]
    for text in (el.text, inner.text):  # most clicks: the rest is never looked at
        if text and (cleaned := clean_text(text, ELEMENT_TEXT_CHARS)):
            return cleaned
    value = el.attributes.get("value") if role(el) in _VALUE_ROLES else None
    for candidate in (
        *_described_by(el),
        *(_described_by(inner) if inner is not el else ()),
        el.attributes.get("placeholder"),
        el.attributes.get("name"),
        value,
    ):
        if candidate and (cleaned := clean_text(candidate, ELEMENT_TEXT_CHARS)):
            return cleaned
    return None


def _described_by(el: Element) -> list[str | None]:
    """Attributes that say what an element is, best first."""
    attrs = el.attributes
    captured = [v for k, v in attrs.items() if k.startswith(_CAPTURE_ATTRIBUTE)]
    return [attrs.get("aria-label"), attrs.get("alt"), attrs.get("title"), *captured[:1]]


def describe_element(chain: tuple[Element, ...]) -> str | None:
    """E.g. "button 'Upgrade to Pro'", "link 'Docs'", "field 'Email'"."""
    if not chain:
        return None
    index = target_index(chain)
    text = visible_text(chain, index)
    kind = role(chain[index])
    return f"{kind} {quote(text)}" if text else kind


def component_name(chain: tuple[Element, ...], config: ProjectConfig) -> str | None:
    """Configured selectors first, then the nearest meaningful ancestor of the target."""
    index = target_index(chain)
    configured = first_match(config.components, chain[index:])
    if configured:
        return configured
    for el in chain[index + 1 :]:
        name = _ancestor_name(el)
        if name and (cleaned := clean_text(name, 60)):
            return cleaned
    return None


def _ancestor_name(el: Element) -> str | None:
    if el.tag.lower() in _PAGE_LANDMARKS or el.attributes.get("role") == "main":
        return None
    for attr in _COMPONENT_ATTRS:
        if value := el.attributes.get(attr):
            return humanize(value)
    if label := el.attributes.get("aria-label"):
        return label
    element_id = el.attr_id or el.attributes.get("id")
    if element_id and _meaningful_id(element_id):
        return humanize(element_id)
    return _LANDMARKS.get(el.tag.lower()) or _LANDMARK_ROLES.get(el.attributes.get("role", ""))


def _meaningful_id(element_id: str) -> bool:
    """`plan-picker` is; `root`, `radix-:r3:` and `ember123` are not."""
    return element_id.lower() not in _GENERIC_IDS and not any(ch.isdigit() for ch in element_id)
