"""Triggers fire exactly once per threshold and person, whatever the arrival order, duplicates,
batching, merges or replays (the firing commits with the events that caused it)."""

from __future__ import annotations

import random
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from tests.factories import make_raw
from usertrail.adapters.sql.derived import apply_derived, clear_derived
from usertrail.adapters.sql.engine import create_schema, make_engine
from usertrail.adapters.sql.tables import deliveries, persons, sink_records, trigger_firings
from usertrail.core.process import derive
from usertrail.model.config import ProjectConfig
from usertrail.model.raw import LoggedEvent, RawEvent

HOOK = {"webhook": {"url": "http://127.0.0.1:9/hook"}}
CONFIG = ProjectConfig.model_validate(
    {
        "triggers": {
            "power_user": {"when": {"event": "feature_used"}, "nth": 5, "actions": [HOOK, HOOK]},
            "every_third": {"when": {"event": "feature_used"}, "every": 3, "actions": [HOOK]},
        },
        "sinks": {"training": {"when": {"event": "generation_failed"}, "path": "t.jsonl"}},
    }
)


def uses(distinct_id: str, start: float, n: int = 2) -> list[RawEvent]:
    return [make_raw("feature_used", distinct_id=distinct_id, at=start + i) for i in range(n)]


def identify(anon: str, at: float) -> RawEvent:
    props = {"$anon_distinct_id": anon}
    return make_raw("$identify", distinct_id="user_42", at=at, properties=props)


# No id, and no pair of ids that can be one person before the last merge, reaches 5 alone:
# so in any order the person fires `power_user` once, and `every_third` at 3 and 6 once each.
TRACE = [
    *uses("anon-1", 0),
    identify("anon-1", 10),
    *uses("user_42", 20),
    *uses("anon-2", 30),
    identify("anon-2", 40),
    make_raw("generation_failed", distinct_id="anon-2", at=50, properties={"x": 1}),
]


@contextmanager
def sqlite() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'db.sqlite'}", writer=True)
        create_schema(engine)
        yield engine
        engine.dispose()


def process(engine: Engine, events: list[RawEvent], sizes: list[int]) -> None:
    logged = [LoggedEvent(seq=i + 1, raw=e) for i, e in enumerate(events)]
    start, batch = 0, iter(sizes)
    while start < len(logged):
        size = next(batch, 3)
        with engine.begin() as conn:
            apply_derived(conn, derive(logged[start : start + size], lambda _p: CONFIG), "test")
        start += size


def outcome(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        key_of = {
            d: k for d, k in conn.execute(select(persons.c.distinct_id, persons.c.person_key))
        }
        firings = conn.execute(
            select(
                trigger_firings.c.trigger, trigger_firings.c.threshold, trigger_firings.c.anchor_id
            )
        ).all()
        keys: list[str] = list(conn.execute(select(deliveries.c.key)).scalars())
        lines: list[str] = list(conn.execute(select(sink_records.c.uuid)).scalars())
    return {
        "firings": sorted((t, n, key_of[a]) for t, n, a in firings),
        "deliveries": len(keys),
        "distinct_keys": len(set(keys)),
        "sink_lines": len(lines),
    }


EXPECTED = {
    "firings": [
        ("every_third", 3, "user_42"),
        ("every_third", 6, "user_42"),
        ("power_user", 5, "user_42"),
    ],
    "deliveries": 4,  # power_user has two actions
    "distinct_keys": 4,
    "sink_lines": 1,
}


def test_a_clean_pass_fires_each_threshold_once() -> None:
    with sqlite() as engine:
        process(engine, TRACE, [len(TRACE)])
        assert outcome(engine) == EXPECTED


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rnd=st.randoms(use_true_random=False),
    sizes=st.lists(st.integers(min_value=1, max_value=6), min_size=1, max_size=15),
    dupes=st.integers(min_value=0, max_value=8),
)
def test_shuffled_duplicated_batched_input_fires_each_threshold_once(
    rnd: random.Random, sizes: list[int], dupes: int
) -> None:
    events = TRACE + rnd.choices(TRACE, k=dupes)
    rnd.shuffle(events)
    with sqlite() as engine:
        process(engine, events, sizes)
        process(engine, events, [len(events)])  # the whole log again: a crash-replayed slice
        assert outcome(engine) == EXPECTED


def test_replay_rebuilds_counts_without_firing_again() -> None:
    with sqlite() as engine:
        process(engine, TRACE, [4, 4, 4])
        with engine.begin() as conn:
            clear_derived(conn)
        process(engine, TRACE, [len(TRACE)])
        assert outcome(engine) == EXPECTED


def test_a_window_counts_only_recent_events() -> None:
    config = ProjectConfig.model_validate(
        {
            "triggers": {
                "burst": {
                    "when": {"event": "feature_used"},
                    "nth": 3,
                    "window_minutes": 1,
                    "actions": [HOOK],
                }
            }
        }
    )
    spread = [make_raw("feature_used", distinct_id="u", at=i * 50) for i in range(4)]
    burst = [make_raw("feature_used", distinct_id="u", at=1000 + i) for i in range(3)]
    with sqlite() as engine:
        for events, expected in ((spread, 0), (burst, 1)):
            logged = [LoggedEvent(seq=1, raw=e) for e in events]
            with engine.begin() as conn:
                apply_derived(conn, derive(logged, lambda _p: config), "test")
            with engine.connect() as conn:
                fired = conn.execute(select(trigger_firings)).all()
            assert len(fired) == expected


def test_a_person_filter_waits_until_the_person_matches() -> None:
    config = ProjectConfig.model_validate(
        {
            "triggers": {
                "pro_power": {
                    "when": {"event": "feature_used"},
                    "person": {"plan": "pro"},
                    "nth": 2,
                    "actions": [HOOK],
                }
            }
        }
    )
    free = uses("u", 0)
    upgrade = make_raw("$set", distinct_id="u", at=5, properties={"$set": {"plan": "pro"}})
    later = uses("u", 10, n=1)
    with sqlite() as engine:
        for step, expected in ((free, 0), ([upgrade], 0), (later, 1)):
            logged = [LoggedEvent(seq=1, raw=e) for e in step]
            with engine.begin() as conn:
                apply_derived(conn, derive(logged, lambda _p: config), "test")
            with engine.connect() as conn:
                assert len(conn.execute(select(trigger_firings)).all()) == expected
