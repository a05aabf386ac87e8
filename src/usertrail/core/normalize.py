"""RawEvent -> Event: kind, page -> component -> element, route, device, feature and label.

Deterministic (same raw event and config, same Event), so replay equals the live path.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

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
from usertrail.core.text import clean_text, humanize
from usertrail.model.config import FeatureSpec, ProjectConfig
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
    chain = elements_of(props)
    url = _str(props.get("$current_url"))
    path = path_of(url) or _str(props.get("$pathname"))
    path = clean_text(path, URL_CHARS) if path else None
    route = route_template(path, config.path_cleaning) if path else None
    page = _screen(raw.event, props) or page_name(route, config, _str(props.get("$title")))
    feature = feature_of(raw.event, props, chain, config)
    kind = classify(raw.event, props, feature)
    is_interaction = kind in INTERACTIONS and bool(chain)
    component = component_name(chain, config) if is_interaction else None
    element = describe_element(chain) if is_interaction else None
    parts = LabelParts(
        kind=kind,
        name=raw.event,
        page=page,
        component=component,
        element=element,
        element_text=visible_text(chain, target_index(chain)) if is_interaction else None,
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
        url=clean_text(url, URL_CHARS) if url else None,
        path=path,
        route=route,
        page=page,
        component=component,
        element=element,
        label=label(parts),
        feature=feature,
        matched=matched_selectors(chain, config) if is_interaction else (),
        device=device_from_properties(props),
        properties=kept_properties(props),
        groups=event_groups(raw.event, raw.body, props),
    )


def elements_of(props: Mapping[str, Any]) -> tuple[Element, ...]:
    chain = props.get("$elements_chain")
    if isinstance(chain, str) and chain:
        return parse_elements_chain(chain)
    return elements_from_array(props.get("$elements"))


def feature_of(
    name: str, props: Mapping[str, Any], chain: tuple[Element, ...], config: ProjectConfig
) -> str | None:
    """A configured feature (by event name or click selector); by default, the conventional
    `feature_used` event names its feature in a property."""
    for key, spec in config.features.items():
        if name in spec.events or (name == "$autocapture" and _clicked(spec, chain)):
            return spec.name or humanize(key)
    if name == "feature_used":
        given = props.get("feature") or props.get("feature_name") or props.get("name")
        return (clean_text(str(given), 60) if given else "") or "Feature"
    return None


def _clicked(spec: FeatureSpec, chain: tuple[Element, ...]) -> bool:
    return bool(spec.clicks) and first_match(dict.fromkeys(spec.clicks, ""), chain) is not None


def matched_selectors(chain: tuple[Element, ...], config: ProjectConfig) -> tuple[str, ...]:
    """Funnel click steps are CSS selectors: match them here, while the chain is at hand."""
    wanted = {s.click for f in config.funnels.values() for s in f.steps if s.click}
    return tuple(sorted(w for w in wanted if first_match({w: w}, chain)))


def kept_properties(props: Mapping[str, Any]) -> dict[str, object]:
    """A bounded subset of custom properties, for context and sinks: finite scalars only."""
    kept: dict[str, object] = {}
    for key, value in props.items():
        if len(kept) >= MAX_KEPT_PROPERTIES:
            break
        if not isinstance(key, str) or key.startswith("$") or key in _NEVER_KEPT:
            continue
        name = clean_text(key, 60)
        if not name:
            continue
        if isinstance(value, str):
            kept[name] = clean_text(value, KEPT_STRING_CHARS)
        elif value is None or isinstance(value, bool) or _finite_number(value):
            kept[name] = value
    return kept


def _finite_number(value: Any) -> bool:
    if isinstance(value, int):
        return -(2**63) <= value < 2**64  # what every store and JSON reader can hold
    return isinstance(value, float) and math.isfinite(value)


def _screen(name: str, props: Mapping[str, Any]) -> str | None:
    """Mobile SDKs name the screen instead of sending a URL."""
    screen = _str(props.get("$screen_name")) if name == "$screen" else None
    return clean_text(screen, 60) or None if screen else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
