"""The derive step's shortcuts (a config compiled once, URL and click-chain results cached, spans
folded once per slice) give exactly what the plain per-event computation they replaced gives,
on hostile events (non-ASCII, NUL, `/`, very long texts) and on configs with every kind of rule.

The `_plain_*` functions are that computation, as derive did it before the shortcuts."""

from __future__ import annotations

import gc
import math
from datetime import datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import click, make_raw, pageview
from usertrail.core.aggregates import funnel_steps
from usertrail.core.compiled_config import compiled
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
from usertrail.core.identity import merge_edge
from usertrail.core.labels import INTERACTIONS, LabelParts, classify, label
from usertrail.core.normalize import kept_properties, normalize
from usertrail.core.posthog_events import is_activity
from usertrail.core.process import Derived, derive
from usertrail.core.routes import path_of, route_template
from usertrail.core.selectors import first_match
from usertrail.core.sinks import sink_line
from usertrail.core.text import clean_text, humanize
from usertrail.core.triggers import event_matches
from usertrail.demo.project import DEMO_PROJECT_FILE
from usertrail.model.config import (
    ActionSpec,
    EventFilter,
    FeatureSpec,
    FunnelSpec,
    FunnelStep,
    PathRule,
    ProjectConfig,
    SinkSpec,
    TriggerSpec,
    WebhookSpec,
)
from usertrail.model.event import Element, Event
from usertrail.model.raw import LoggedEvent, RawEvent
from usertrail.project_file import load_project_file

_WEBHOOK = (ActionSpec(webhook=WebhookSpec(url="https://example.test/hook")),)
# Every kind of rule, with the orders and overlaps the shortcuts must keep.
ODD = ProjectConfig(
    pages={"/": "", "/a/*": "Glob", "/x/:id": "X ü", "/settings/billing": "Billing"},
    path_cleaning=(PathRule(regex="^/org/[^/]+", alias="/org/:org"),),
    components={"[data-attr=upgrade]": "Up", "'Reports'": "By text", "nav.sidebar": "Side"},
    features={
        "export": FeatureSpec(events=("report_exported",), clicks=("[data-attr=export]",)),
        "twice": FeatureSpec(name="Twice", events=("report_exported", "x")),  # export wins
        "---": FeatureSpec(events=("feature_used",)),  # humanized to "": still the feature
        "every_click": FeatureSpec(events=("$autocapture",)),  # after export, before text
        "by_text": FeatureSpec(clicks=("'Upgrade to Pro'",)),
    },
    funnels={
        "plan": FunnelSpec(
            steps=(FunnelStep(page="Billing"), FunnelStep(click=".plan-card button"))
        ),
        "views": FunnelSpec(steps=(FunnelStep(event="$pageview"), FunnelStep(page="X ü"))),
        "named": FunnelSpec(steps=(FunnelStep(click="Up"), FunnelStep(event="x"))),
        "blank": FunnelSpec(steps=(FunnelStep(page="", event="y"), FunnelStep(event="x"))),
    },
    triggers={
        "used": TriggerSpec(when=EventFilter(event="feature_used"), first=True, actions=_WEBHOOK),
        "pro": TriggerSpec(
            when=EventFilter(event="x", where={"plan": ("pro", 1)}), nth=2, actions=_WEBHOOK
        ),
        "any_x": TriggerSpec(when=EventFilter(event="x"), every=3, actions=_WEBHOOK),
    },
    sinks={
        "failed": SinkSpec(
            when=EventFilter(event="generation_failed"),
            properties=("failure_reason",),
            path="f.jsonl",
        ),
        "xs": SinkSpec(when=EventFilter(event="x", where={"k": "v"}), path="x.jsonl"),
    },
)
CONFIGS = (ProjectConfig(), load_project_file(DEMO_PROJECT_FILE), ODD)

_LONG = "/seg" * 600  # past the URL cache's bound
_CHAINS = (
    'button.btn:text="Upgrade to Pro"attr__data-attr="upgrade";'
    'div.plan-card:attr__data-ph-component="plan-picker";main:attr__id="content";body',
    'a.text-sm:text="Reports"href="/reports";nav.sidebar;body',
    'svg;button:text="Export CSV"attr__data-attr="export";div.toolbar:attr__aria-label="T"',
    'input:attr__type="submit"attr__value="Go ü";form#signup-form;body',
    'span:text="  a\t\x00b  ";li;ul:attr__role="menu";div#ember123;div#plan-picker',
    'p:text="日本/\x00"',
    "x" * 9000,  # past the chain cache's bound
    'button:text="' + "ü" * 9000 + '"',
    'x"unclosed',
)
_URLS = (
    "https://app.acme.test/",
    "https://app.acme.test/settings/billing?x=1#f",
    "https://app.acme.test/demo/reports/42/schedule",
    "https://h/org/acme/a/b",
    "https://h/x/123e4567-e89b-12d3-a456-426614174000",
    "https://h/ü/日本/2024-01-02/a@b.com",
    "https://h/a%2Fb/\x00/",
    "http://[::1",
    "not a url",
    "/x/7",
    "https://h" + _LONG,
)
_IDS = ("u1", "ü-ß-日本", "a/b", "nul\x00id", "x" * 300, "  ")
_SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats() | st.text()
_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "$current_url": st.sampled_from(_URLS) | st.text(),
    "$pathname": st.sampled_from(("/a/b", "", "/x/9", _LONG)) | st.text(),
    "$title": st.text(max_size=80),
    "$screen_name": st.text(max_size=80),
    "$elements_chain": st.sampled_from(_CHAINS) | st.text(max_size=60),
    "$elements": st.just(
        [{"tag_name": "button", "$el_text": "Old", "attr__data-attr": "export"}, "junk"]
    ),
    "$event_type": st.sampled_from(("click", "submit", "change", "weird")),
    "$session_id": st.text(max_size=30),
    "$browser": st.sampled_from(("Chrome", "", 3, True)),
    "$os": st.sampled_from(("iOS", "Mac OS X")),
    "$raw_user_agent": st.just("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"),
    "$groups": st.dictionaries(st.sampled_from(("company", "ü")), st.text(max_size=9)),
    "$anon_distinct_id": st.sampled_from(_IDS),
    "$set": st.dictionaries(st.text(max_size=5), _SCALARS, max_size=2),
    "plan": st.sampled_from(("pro", 1, True, "free")),
    "k": st.sampled_from(("v", "w")),
}
_EVENTS = st.sampled_from(
    (
        "$pageview",
        "$pageleave",
        "$autocapture",
        "$rageclick",
        "$dead_click",
        "$screen",
        "$identify",
        "$exception",
        "$groupidentify",
        "feature_used",
        "report_exported",
        "generation_failed",
        "x",
        "y",
        "ü/\x00",
    )
)


@st.composite
def _raw(draw: st.DrawFn) -> RawEvent:
    keys = draw(st.lists(st.sampled_from(sorted(_VALUES)), max_size=8, unique=True))
    props = {key: draw(_VALUES[key]) for key in keys}
    props.update(draw(st.dictionaries(st.text(max_size=8), _SCALARS, max_size=3)))
    return make_raw(
        draw(_EVENTS),
        distinct_id=draw(st.sampled_from(_IDS)),
        at=draw(st.integers(0, 10_000)),
        project_id=draw(st.sampled_from(("p1", "p/ü"))),
        properties=props,
    )


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(CONFIGS), _raw())
def test_normalize_gives_what_the_plain_computation_gives(
    config: ProjectConfig, raw: RawEvent
) -> None:
    expected = _plain_normalize(raw, config)
    for _ in range(2):  # cold caches, then warm
        event = normalize(raw, config)
        assert event == expected
        assert repr(event) == repr(expected)  # and the same types (1 is not True, nor 1.0)
        assert funnel_steps(event, config) == _plain_funnel_steps(event, config)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(CONFIGS), st.lists(_raw(), max_size=12))
def test_a_slice_derives_what_the_plain_computation_gives(
    config: ProjectConfig, trace: list[RawEvent]
) -> None:
    derived = derive([LoggedEvent(seq=i + 1, raw=r) for i, r in enumerate(trace)], lambda _: config)
    assert [r.event for r in derived.records] == [_plain_normalize(r, config) for r in trace]
    assert [(h.trigger, h.uuid) for h in derived.trigger_hits] == [
        (name, raw.uuid) for raw in trace for name in _plain_triggers(raw, config)
    ]
    assert [(s.sink, s.uuid, s.line) for s in derived.sink_records] == [
        (name, raw.uuid, sink_line(spec, raw))
        for raw in trace
        for name, spec in config.sinks.items()
        if event_matches(spec.when, raw)
    ]
    assert _spans(derived) == _plain_spans(trace, derived)


@settings(max_examples=300)
@given(
    st.dictionaries(
        st.text(alphabet="abc $\u200b", max_size=3) | st.sampled_from(("token", "x" * 70)),
        _SCALARS,
        min_size=10,
        max_size=40,
    )
)
def test_kept_properties_are_what_the_plain_loop_keeps(props: dict[str, Any]) -> None:
    """Names that clean to the same text, and more properties than are kept."""
    assert repr(kept_properties(props)) == repr(_plain_kept(props))


def test_each_config_is_compiled_for_itself_however_many_come_and_go() -> None:
    """Configs made and dropped by the hundred (their ids are reused) never share shortcuts."""
    for i in range(600):
        config = ProjectConfig(pages={"/": f"Page {i}"})
        assert normalize(pageview("/"), config).page == f"Page {i}"
        del config


def test_cached_results_leave_nothing_for_the_garbage_collector_to_walk() -> None:
    """Cache entries that stay tracked are walked by every full collection: with no URL
    repeating, that cost more than the caches saved."""
    known = compiled(ODD)
    for i in range(50):
        chain = f'button:text="Item {i}";div.plan-card;nav.sidebar'
        normalize(click(f"/x/{i}?q={i}", chain, properties={"$pathname": "/p"}), ODD)
    gc.collect()
    gc.collect()  # a tuple holding a tuple is untracked one pass after the inner one
    cached = [*known.places.items(), *known.pages.items(), *known.interactions.items()]
    assert len(cached) > 100
    assert [entry for entry in cached if gc.is_tracked(entry[0]) or gc.is_tracked(entry[1])] == []


# --- the plain computation -----------------------------------------------------------------


def _plain_normalize(raw: RawEvent, config: ProjectConfig) -> Event:
    props = raw.properties
    source = props.get("$elements_chain")
    chain = (
        parse_elements_chain(source)
        if isinstance(source, str) and source
        else elements_from_array(props.get("$elements"))
    )
    url = _str(props.get("$current_url"))
    path = path_of(url) or _str(props.get("$pathname"))
    path = clean_text(path, 300) if path else None
    route = route_template(path, config.path_cleaning) if path else None
    screen = _str(props.get("$screen_name")) if raw.event == "$screen" else None
    screen = clean_text(screen, 60) or None if screen else None
    page = screen or page_name(route, config, _str(props.get("$title")))
    feature = _plain_feature(raw.event, props, chain, config)
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
        properties=props,
        distinct_id=raw.distinct_id,
    )
    session = _str(props.get("$session_id"))
    wanted = {s.click for f in config.funnels.values() for s in f.steps if s.click}
    return Event(
        project_id=raw.project_id,
        uuid=raw.uuid,
        distinct_id=raw.distinct_id,
        name=raw.event,
        kind=kind,
        timestamp=raw.timestamp,
        session_id=clean_text(session, 200) or None if session else None,
        url=clean_text(url, 300) if url else None,
        path=path,
        route=route,
        page=page,
        component=component,
        element=element,
        label=label(parts),
        feature=feature,
        matched=tuple(sorted(w for w in wanted if first_match({w: w}, chain)))
        if is_interaction
        else (),
        device=device_from_properties(props),
        properties=kept_properties(props),
        groups=event_groups(raw.event, raw.body, props),
    )


def _plain_kept(props: dict[str, Any]) -> dict[str, object]:
    kept: dict[str, object] = {}
    for key, value in props.items():
        if len(kept) >= 20:
            break
        if not isinstance(key, str) or key.startswith("$") or key in ("token", "distinct_id"):
            continue
        name = clean_text(key, 60)
        if not name:
            continue
        if isinstance(value, str):
            kept[name] = clean_text(value, 200)
        elif value is None or isinstance(value, bool) or _finite(value):
            kept[name] = value
    return kept


def _finite(value: Any) -> bool:
    if isinstance(value, int):
        return -(2**63) <= value < 2**64
    return isinstance(value, float) and math.isfinite(value)


def _plain_feature(
    name: str, props: Any, chain: tuple[Element, ...], config: ProjectConfig
) -> str | None:
    for key, spec in config.features.items():
        if name in spec.events or (name == "$autocapture" and _clicked(spec.clicks, chain)):
            return spec.name or humanize(key)
    if name == "feature_used":
        given = props.get("feature") or props.get("feature_name") or props.get("name")
        return (clean_text(str(given), 60) if given else "") or "Feature"
    return None


def _clicked(clicks: tuple[str, ...], chain: tuple[Element, ...]) -> bool:
    return bool(clicks) and first_match(dict.fromkeys(clicks, ""), chain) is not None


def _plain_funnel_steps(event: Event, config: ProjectConfig) -> list[tuple[str, int]]:
    hits = []
    for name, funnel in config.funnels.items():
        for index, step in enumerate(funnel.steps):
            if step.page is not None:
                matched = event.kind == "pageview" and event.page == step.page
            elif step.event is not None:
                matched = event.name == step.event
            else:
                matched = event.kind == "click" and (
                    step.click in event.matched or step.click in (event.component, event.element)
                )
            if matched:
                hits.append((name, index))
    return hits


def _plain_triggers(raw: RawEvent, config: ProjectConfig) -> list[str]:
    return [name for name, spec in config.triggers.items() if event_matches(spec.when, raw)]


Span = tuple[str, str, datetime, datetime]


def _plain_spans(trace: list[RawEvent], derived: Derived) -> list[Span]:
    """The ids an edge names or an activity comes from, each first seen to last seen."""
    seen: dict[tuple[str, str], Span] = {}

    def see(project_id: str, distinct_id: str, ts: datetime) -> None:
        old = seen.get((project_id, distinct_id))
        first, last = (min(old[2], ts), max(old[3], ts)) if old else (ts, ts)
        seen[project_id, distinct_id] = (project_id, distinct_id, first, last)

    for raw, record in zip(trace, derived.records, strict=True):
        if (edge := merge_edge(raw)) is not None:
            see(raw.project_id, edge.other_id, raw.timestamp)
        if is_activity(record.event.kind):
            see(raw.project_id, raw.distinct_id, raw.timestamp)
    return list(seen.values())


def _spans(derived: Derived) -> list[Span]:
    return [(s.project_id, s.distinct_id, s.first, s.last) for s in derived.seen]


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
