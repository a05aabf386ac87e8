"""Per-person counters, the memory that patterns read across sessions.

Each new event adds 1 to a few named counters (and widens their first/last seen). Adding is
commutative and each event is counted once (only events newly stored are counted, in the same
transaction), so the counters are exact under retries and reordering. They are kept per distinct
id and summed over a person's ids at read time, so identity merges need no rewrite.

Key grammar: `kind:value`, e.g. `page:Billing`, `feature:Report export`, `event:feature_used`,
`error:<message>`, `rageclick:<element>@<page>`, `slow_page:<page>`, `funnel:plan_selection:0`,
`day:2026-11-24`.
"""

from __future__ import annotations

from usertrail.core.compiled_config import compiled
from usertrail.core.posthog_events import SLOW_PAGE, is_activity
from usertrail.model.config import ProjectConfig
from usertrail.model.counter import Counter
from usertrail.model.event import Event

MAX_KEY_CHARS = 200


def counter_keys(event: Event, config: ProjectConfig) -> list[str]:
    """The counters one event increments: none for a person or group update, which is not
    activity (it would make a backend's `$set` an active day)."""
    if not is_activity(event.kind):
        return []
    keys = [f"event:{event.name}", f"day:{event.timestamp.date().isoformat()}"]
    if event.kind == "pageview" and event.page:
        keys.append(f"page:{event.page}")
    if event.feature:
        keys.append(f"feature:{event.feature}")
    if event.kind in ("rageclick", "deadclick") and event.element:
        # An empty page (events without a URL) reads "Rage-clicked X 3 times", never "on ?".
        keys.append(f"{event.kind}:{event.element}@{event.page or ''}")
    if event.kind == SLOW_PAGE:
        keys.append(f"slow_page:{event.page or ''}")
    if event.kind == "error":
        keys.append(f"error:{event.label.removeprefix('Hit an error: ')}")
    if steps := funnel_steps(event, config):
        keys += [f"funnel:{name}:{i}" for name, i in steps]
    return [k[:MAX_KEY_CHARS] for k in keys]


def set_members(event: Event) -> list[tuple[str, str]]:
    """Distinct-count sets an event joins: (set, member). "Opened Billing across 3 sessions"
    is the size of the set `page_sessions:Billing`, counted over all the person's ids."""
    viewed = event.kind == "pageview" and event.page
    if not (viewed or event.feature) or not is_activity(event.kind):
        return []  # most events (clicks, errors...) join none
    day = event.timestamp.date().isoformat()
    # A `$session_id` reused for days is a new session each day at least (30 idle minutes end
    # one); the exact split needs the neighbouring events, which one event does not have.
    session = f"{event.session_id}/{day}" if event.session_id else f"day-{day}"
    members = []
    if viewed:
        members.append((f"page_sessions:{event.page}", session))
    if event.feature:
        members.append((f"feature_sessions:{event.feature}", session))
    return [(k[:MAX_KEY_CHARS], m[:MAX_KEY_CHARS]) for k, m in members]


def funnel_steps(event: Event, config: ProjectConfig) -> list[tuple[str, int]]:
    """Which configured funnel steps this event is (a step matches a page view, an event name,
    or a click on a component/element), in configured order."""
    known = compiled(config)
    page = event.page if event.kind == "pageview" else None
    by_page = known.funnel_by_page.get(page) if page is not None else None
    by_event = known.funnel_by_event.get(event.name)
    clicks = known.funnel_clicks if event.kind == "click" else ()
    if not (by_page or by_event or clicks):
        return []  # most events: the steps are indexed by the page or event they name
    slots = [
        *(by_page or ()),
        *(by_event or ()),
        *(slot for slot, click in clicks if _clicked(click, event)),
    ]
    return [(name, index) for _, name, index in sorted(slots)]  # in configured order


def _clicked(click: str | None, event: Event) -> bool:
    return click in event.matched or click in (event.component, event.element)


def merge_counters(rows: list[tuple[str, Counter]]) -> dict[str, Counter]:
    """Sum one person's counters over all their distinct ids."""
    out: dict[str, Counter] = {}
    for key, counter in rows:
        out[key] = out[key].merged(counter) if key in out else counter
    return out
