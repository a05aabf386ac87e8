"""A trace through the real pipeline: derive (normalize, label, count) -> build_context. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from usertrail.core.aggregates import merge_counters
from usertrail.core.context.build import ContextInputs, ContextOptions, build_context
from usertrail.core.identity import apply_person_updates
from usertrail.core.process import derive
from usertrail.model.config import ProjectConfig
from usertrail.model.context import UserContext
from usertrail.model.counter import Counter
from usertrail.model.person import PersonRef
from usertrail.model.raw import LoggedEvent, RawEvent
from usertrail.retrieval.signals import SIGNAL_EVENTS


def context_of(
    trace: Sequence[RawEvent],
    config: ProjectConfig,
    user_id: str,
    options: ContextOptions | None = None,
) -> UserContext:
    """The context the service would serve right after the trace (one person, all its ids)."""
    logged = [LoggedEvent(seq=i, raw=raw) for i, raw in enumerate(trace, start=1)]
    derived = derive(logged, lambda _project_id: config)
    counters: list[tuple[str, Counter]] = []
    sets: dict[str, set[str]] = {}
    for record in derived.records:
        stamp = Counter(count=1, first=record.event.timestamp, last=record.event.timestamp)
        counters += [(key, stamp) for key in record.counter_keys]
        for key, member in record.set_members:
            sets.setdefault(key, set()).add(member)
    times = [e.timestamp for e in derived.events]
    person = PersonRef(
        project_id="eval",
        key=user_id,
        distinct_ids=tuple(sorted({e.distinct_id for e in derived.events})),
        first_seen=min(times),
        last_seen=max(times),
    )
    inputs = ContextInputs(
        person=person,
        user_id=user_id,
        properties=apply_person_updates(u for _, _, u in derived.updates),
        events=derived.events,
        counters=merge_counters(counters),
        config=config,
        set_sizes={k: len(v) for k, v in sets.items()},
    )
    now: datetime = max(times) + timedelta(seconds=30)
    return build_context(inputs, options or ContextOptions(n=SIGNAL_EVENTS), now)
