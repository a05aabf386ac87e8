"""RawEvent -> Event: kind, page -> component -> element, route, device, feature and label.

Deterministic (same raw event and config, same Event), so replay equals the live path.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from usertrail.core.compiled_config import (
    CompiledConfig,
    Interaction,
    Place,
    compiled,
    remember,
)
from usertrail.core.decode import fits_json_int
from usertrail.core.devices import device_from_properties
from usertrail.core.elements_chain import elements_from_array, parse_elements_chain
from usertrail.core.groups import event_groups
from usertrail.core.hierarchy import (
    component_name,
    describe_element,
    page_name,
    target_index,
    visible_text,
)
from usertrail.core.labels import INTERACTIONS, LabelParts, classify, label
from usertrail.core.routes import path_of, route_template
from usertrail.core.selectors import first_match
from usertrail.core.text import clean_text
from usertrail.model.config import ProjectConfig
from usertrail.model.event import Element, Event
from usertrail.model.raw import RawEvent

MAX_KEPT_PROPERTIES = 20
KEPT_STRING_CHARS = 200
URL_CHARS = 300
ID_CHARS = 200
_NEVER_KEPT = frozenset(("token", "distinct_id", "api_key"))


def normalize(raw: RawEvent, config: ProjectConfig, uses: int | None = None) -> Event:
    """`uses`: when the caller has counted it, this is the person's n-th use of the feature."""
    props = raw.properties
    chain, key = _chain(props)
    known = compiled(config)
    url, path, route, route_page = _place(
        known, _str(props.get("$current_url")), _str(props.get("$pathname"))
    )
    if route is None:  # an event with no URL is on the page its title names
        route_page = page_name(None, config, _str(props.get("$title")))
    page = _screen(raw.event, props) or route_page
    feature = _feature(raw.event, props, chain, key, known)
    kind = classify(raw.event, props, feature)
    if kind in INTERACTIONS and chain:
        component, element, element_text, matched = _interaction(known, chain, key)
    else:
        component = element = element_text = None
        matched = ()
    parts = LabelParts(
        kind=kind,
        name=raw.event,
        page=page,
        component=component,
        element=element,
        element_text=element_text,
        feature=feature,
        uses=uses,
        properties=props,
        distinct_id=raw.distinct_id,
    )
    session = _str(props.get("$session_id"))
    return Event(
        project_id=raw.project_id,
        uuid=raw.uuid,
        distinct_id=raw.distinct_id,
        name=raw.event,
        kind=kind,
        timestamp=raw.timestamp,
        session_id=clean_text(session, ID_CHARS) or None if session else None,
        url=url,
        path=path,
        route=route,
        page=page,
        component=component,
        element=element,
        label=label(parts),
        feature=feature,
        matched=matched,
        device=device_from_properties(props),
        properties=kept_properties(props),
        groups=event_groups(raw.event, raw.body, props),
    )


def elements_of(props: Mapping[str, Any]) -> tuple[Element, ...]:
    return _chain(props)[0]


# What normalize works out from the URL and from the click chain depends on them and the config
# alone, and a product's events repeat a few hundred of each: worked out once per config
# (CompiledConfig's caches), looked up after. Longer texts are worked out every time, so the
# caches stay small.
_CACHED_CHARS = 2000


def _chain(props: Mapping[str, Any]) -> tuple[tuple[Element, ...], str | None]:
    """The click chain, and the `$elements_chain` text it was parsed from when that is short
    enough to key a cache."""
    chain = props.get("$elements_chain")
    if isinstance(chain, str) and chain:
        return parse_elements_chain(chain), chain if len(chain) <= _CACHED_CHARS else None
    return elements_from_array(props.get("$elements")), None


def _place(known: CompiledConfig, url: str | None, pathname: str | None) -> Place:
    found = known.places.get((url, pathname))
    if found is None:
        found = _place_of(known, url, pathname)
        if len(url or "") + len(pathname or "") <= _CACHED_CHARS:
            remember(known.places, (url, pathname), found)
    return found


def _place_of(known: CompiledConfig, url: str | None, pathname: str | None) -> Place:
    """`$current_url` (else `$pathname`) -> the cleaned URL, its path, route and page name."""
    path = path_of(url) or pathname
    path = clean_text(path, URL_CHARS) if path else None
    route = route_template(path, known.config.path_cleaning) if path else None
    page = None if route is None else _page(known, route)
    return (clean_text(url, URL_CHARS) if url else None), path, route, page


def _page(known: CompiledConfig, route: str) -> str | None:
    """Many URLs, one route (`/reports/:id`): its page is looked up once."""
    found = known.pages.get(route)
    if found is None:
        found = page_name(route, known.config)
        if len(route) <= _CACHED_CHARS:
            remember(known.pages, route, found)
    return found


def _interaction(known: CompiledConfig, chain: tuple[Element, ...], key: str | None) -> Interaction:
    """Component, element, the element's text and the funnel selectors matched, of a click."""
    if key is None:
        return _interaction_of(known, chain)
    found = known.interactions.get(key)
    if found is None:
        found = remember(known.interactions, key, _interaction_of(known, chain))
    return found


def _interaction_of(known: CompiledConfig, chain: tuple[Element, ...]) -> Interaction:
    return (
        component_name(chain, known.config),
        describe_element(chain),
        visible_text(chain, target_index(chain)),
        _matched(chain, known),
    )


def feature_of(
    name: str, props: Mapping[str, Any], chain: tuple[Element, ...], config: ProjectConfig
) -> str | None:
    """A configured feature (by event name or click selector); by default, the conventional
    `feature_used` event names its feature in a property."""
    return _feature(name, props, chain, None, compiled(config))


def _feature(
    name: str,
    props: Mapping[str, Any],
    chain: tuple[Element, ...],
    key: str | None,
    known: CompiledConfig,
) -> str | None:
    if name != "$autocapture":
        found = known.feature_by_event.get(name)
    elif not known.autocapture_features:
        found = None
    elif key is None:
        found = _clicked_feature(known, chain)
    elif key in known.clicked_features:  # None is a result: no feature
        found = known.clicked_features[key]
    else:
        found = remember(known.clicked_features, key, _clicked_feature(known, chain))
    if found is not None:
        return found
    if name == "feature_used":
        given = props.get("feature") or props.get("feature_name") or props.get("name")
        return (clean_text(str(given), 60) if given else "") or "Feature"
    return None


def _clicked_feature(known: CompiledConfig, chain: tuple[Element, ...]) -> str | None:
    """The first feature, in configured order, an `$autocapture` with this chain is a use of."""
    for name, clicks in known.autocapture_features:
        if clicks is None or first_match(dict.fromkeys(clicks, ""), chain) is not None:
            return name
    return None


def matched_selectors(chain: tuple[Element, ...], config: ProjectConfig) -> tuple[str, ...]:
    """Funnel click steps are CSS selectors: match them here, while the chain is at hand."""
    return _matched(chain, compiled(config))


def _matched(chain: tuple[Element, ...], known: CompiledConfig) -> tuple[str, ...]:
    return tuple(w for w in known.funnel_selectors if first_match({w: w}, chain))


def kept_properties(props: Mapping[str, Any]) -> dict[str, object]:
    """A bounded subset of custom properties, for context and sinks: finite scalars only."""
    kept: dict[str, object] = {}
    for key, value in props.items():
        if not isinstance(key, str) or key.startswith("$") or key in _NEVER_KEPT:
            continue  # most properties: PostHog's own
        name = clean_text(key, 60)
        if not name:
            continue
        if isinstance(value, str):
            kept[name] = clean_text(value, KEPT_STRING_CHARS)
        elif value is None or isinstance(value, bool) or _finite_number(value):
            kept[name] = value
        else:
            continue
        if len(kept) >= MAX_KEPT_PROPERTIES:
            break
    return kept


def _finite_number(value: Any) -> bool:
    if isinstance(value, int):
        return fits_json_int(value)
    return isinstance(value, float) and math.isfinite(value)


def _screen(name: str, props: Mapping[str, Any]) -> str | None:
    """Mobile SDKs name the screen instead of sending a URL."""
    screen = _str(props.get("$screen_name")) if name == "$screen" else None
    return clean_text(screen, 60) or None if screen else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
