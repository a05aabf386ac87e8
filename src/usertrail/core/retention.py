"""Retention as pure rules: which events age out, and the counters left by those that stay.

`USERTRAIL_RETENTION_DAYS` keeps N days of events, by event time. An event older than that
is removed from the raw log and from derived state together, so the store stays what
`usertrail replay` would build from what the log still holds:

- events that say *who* a person or an account is (`$identify`, `$create_alias`,
  `$merge_dangerously`, `$set`, `$set_once`, `$groupidentify`) are kept: they are rare (one
  per login or profile change), and without them old persons would split apart and lose the
  properties triggers and context rely on, and accounts would lose their plan and seats;
- everything else older than the cutoff goes, with its person-property writes (`$set_once`
  riding on a pageview) and trigger hits;
- counters and distinct-count sets of every id that lost events are rebuilt from the events
  it has left. Patterns read counters, so "opened Billing 4 times" then speaks of retained
  events only, never of history the store no longer holds.

Not pruned: trigger firings (the exactly-once guard: a threshold reached years ago must not
fire again), pending deliveries, and sink files (datasets the project asked for; only a
person's erasure rewrites them). Delivered and dead deliveries older than the cutoff go.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from usertrail.core.aggregates import counter_keys, set_members
from usertrail.model.config import ProjectConfig
from usertrail.model.counter import Counter
from usertrail.model.event import Event

KEPT_EVENTS = (
    "$identify",
    "$create_alias",
    "$merge_dangerously",
    "$set",
    "$set_once",
    "$groupidentify",
)

CounterKey = tuple[str, str, str]  # (project, distinct id, counter key)
Member = tuple[str, str, str, str]  # (project, distinct id, set key, member)


def cutoff(now: datetime, days: int) -> datetime:
    """Events strictly older than this are pruned."""
    return now - timedelta(days=days)


def rebuild_counters(
    events: Iterable[Event], config_for: Callable[[str], ProjectConfig]
) -> tuple[dict[CounterKey, Counter], set[Member]]:
    """Counters and set members exactly as processing these events one by one makes them."""
    counters: dict[CounterKey, Counter] = {}
    members: set[Member] = set()
    for event in events:
        p, d, ts = event.project_id, event.distinct_id, event.timestamp
        for key in counter_keys(event, config_for(p)):
            one = Counter(count=1, first=ts, last=ts)
            old = counters.get((p, d, key))
            counters[(p, d, key)] = old.merged(one) if old else one
        members.update((p, d, s, m) for s, m in set_members(event))
    return counters, members
