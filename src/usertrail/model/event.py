"""The LLM-friendly schema: one normalized, labelled event."""

from __future__ import annotations

from datetime import datetime

import msgspec


# gc=False: the processor makes and holds tens of thousands of these per slice, and the garbage
# collector walked them all again and again (about a sixth of the processor's GIL time, py-spy).
# They hold only data decoded from JSON, which never refers back to them: no cycles to find.
class Element(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One DOM element of an autocapture chain (index 0 is the clicked element)."""

    tag: str
    text: str | None = None
    classes: tuple[str, ...] = ()
    attr_id: str | None = None
    href: str | None = None
    nth_child: int | None = None
    nth_of_type: int | None = None
    attributes: dict[str, str] = msgspec.field(default_factory=dict)  # `attr__x` -> key "x"


class Device(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    device_type: str | None = None  # "Desktop" | "Mobile" | "Tablet"
    browser: str | None = None
    browser_version: str | None = None
    os: str | None = None
    os_version: str | None = None


class Event(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A raw event after normalize + enrich. Pure data; built by core.normalize."""

    project_id: str
    uuid: str
    distinct_id: str
    name: str  # the PostHog event name, e.g. "$autocapture", "feature_used"
    kind: str  # pageview | pageleave | click | change | submit | rageclick | deadclick |
    #            feature | error | identify | custom, and for PostHog's own events (see
    #            core.posthog_events) state | flag | survey | vitals | llm | copy | tour
    timestamp: datetime
    session_id: str | None = None  # `$session_id` when the SDK sent one
    url: str | None = None
    path: str | None = None
    route: str | None = None  # template, e.g. /projects/:id/settings
    page: str | None = None  # readable page name, e.g. "Billing"
    component: str | None = None  # e.g. "Plan picker"
    element: str | None = None  # e.g. "button 'Upgrade'"
    label: str  # e.g. "Clicked 'Upgrade' button in Plan picker on Billing"
    feature: str | None = None  # named feature this event counts as a use of
    matched: tuple[str, ...] = ()  # configured click selectors (funnel steps) the chain matched
    device: Device | None = None
    properties: dict[str, object] = msgspec.field(default_factory=dict)  # kept, bounded subset
    groups: tuple[tuple[str, str], ...] = ()  # (group type, key) from `$groups`, sorted


class PersonId(msgspec.Struct, frozen=True, kw_only=True):
    """Which id has new events: all a cache or a live stream in another process needs."""

    project_id: str
    distinct_id: str


# What change listeners receive: the stored events themselves, or notices of them.
Changed = Event | PersonId
# A notice that names nobody in particular: any context may be stale (a change notice that
# could not name its person, or could not be read). No project has an empty id.
EVERYONE = PersonId(project_id="", distinct_id="")
