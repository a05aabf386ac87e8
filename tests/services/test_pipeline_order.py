"""Rule 2: shuffled, duplicated, randomly batched input gives the state of one clean pass."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from tests.traces import account_trace, login_trace
from usertrail.adapters.sql.derived import DERIVED_TABLES, apply_derived
from usertrail.adapters.sql.engine import create_schema, make_engine
from usertrail.core.groups import group_properties
from usertrail.core.process import derive
from usertrail.model.config import ProjectConfig
from usertrail.model.group import GroupUpdate
from usertrail.model.raw import LoggedEvent, RawEvent

TRACE = login_trace() + account_trace()
CONFIG = ProjectConfig()


def process(engine: Engine, events: list[RawEvent], batch_sizes: list[int]) -> None:
    logged = [LoggedEvent(seq=i + 1, raw=e) for i, e in enumerate(events)]
    start, sizes = 0, iter(batch_sizes)
    while start < len(logged):
        size = next(sizes, 3)
        with engine.begin() as conn:
            apply_derived(conn, derive(logged[start : start + size], lambda _p: CONFIG), "test")
        start += size


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {t.name: sorted(tuple(r) for r in conn.execute(select(t))) for t in DERIVED_TABLES}


def state_of(events: list[RawEvent], batch_sizes: list[int]) -> dict[str, list[tuple[Any, ...]]]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'db.sqlite'}", writer=True)
        create_schema(engine)
        process(engine, events, batch_sizes)
        state = dump(engine)
        engine.dispose()
    return state


CLEAN = state_of(TRACE, [len(TRACE)])


def test_clean_pass_merges_every_login_into_one_person() -> None:
    keys = {row[1]: row[2] for row in CLEAN["persons"]}
    assert keys["anon-1"] == keys["anon-2"] == keys["user_42"] == "user_42"
    assert keys["anonymous"] == "anonymous"  # blocklisted: never merged


def test_clean_pass_gives_the_account_its_members_and_latest_properties() -> None:
    members = {(row[0], row[1], row[2], row[3]) for row in CLEAN["group_members"]}
    assert {m[3] for m in members} == {"anon-1", "user_42", "user_7"}
    assert {row[1] for row in CLEAN["persons"]}.isdisjoint({"$company_acme", "3f0c7a52-made-up"})
    updates = [msgspec.json.decode(row[5]) for row in CLEAN["group_updates"]]
    assert group_properties(msgspec.convert(updates, list[GroupUpdate])) == {
        "plan": "enterprise",
        "seats": 3,
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rnd=st.randoms(use_true_random=False),
    sizes=st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=20),
    dupes=st.integers(min_value=0, max_value=8),
)
def test_shuffled_duplicated_batches_give_the_same_state(
    rnd: random.Random, sizes: list[int], dupes: int
) -> None:
    events = TRACE + rnd.choices(TRACE, k=dupes)
    rnd.shuffle(events)
    assert state_of(events, sizes) == CLEAN
