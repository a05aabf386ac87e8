"""Rule 2 on PostgreSQL with workers side by side: overlapping, shuffled, duplicated slices
stored by several connections at once give the state of one clean pass, and never deadlock.

Slices that only add rows share their project's lock (dialect.lock_projects) and are large
enough for the COPY path (pg_bulk); the logins among them take it alone.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select

from tests.backends import pg_schema_url
from tests.factories import click, make_raw, pageview
from tests.traces import PLAN_BUTTON, account_trace, login_trace
from usertrail.adapters.sql.derived import DERIVED_TABLES, apply_derived
from usertrail.adapters.sql.engine import create_schema, make_engine
from usertrail.adapters.sql.pg_bulk import STAGE_MIN_ROWS
from usertrail.core.process import derive
from usertrail.model.config import ProjectConfig
from usertrail.model.raw import LoggedEvent, RawEvent

CONFIG = ProjectConfig()
IDS = [f"u{i}" for i in range(12)] + ["ünï/cødé", "\u202eevil<b>"]


def browsing(rnd: random.Random, n: int) -> list[RawEvent]:
    return [one_event(rnd, i) for i in range(n)]


def one_event(rnd: random.Random, at: int) -> RawEvent:
    who, props = rnd.choice(IDS), {"$session_id": f"s{rnd.randrange(4)}"}
    roll = rnd.random()
    if roll < 0.5:
        return pageview(rnd.choice(["/", "/reports"]), distinct_id=who, at=at, properties=props)
    if roll < 0.8:
        return click("/settings/billing", PLAN_BUTTON, distinct_id=who, at=at, properties=props)
    return make_raw("feature_used", distinct_id=who, at=at, properties={"feature": "Export"})


TRACE = login_trace() + account_trace() + browsing(random.Random(3), 1500)


@pytest.fixture
def engines() -> Iterator[tuple[Engine, Engine]]:
    """A clean-pass schema and a concurrent one."""
    with pg_schema_url() as clean_url, pg_schema_url() as busy_url:
        clean, busy = make_engine(clean_url), make_engine(busy_url)
        create_schema(clean)
        create_schema(busy)
        yield clean, busy
        clean.dispose()
        busy.dispose()


def store(engine: Engine, slices: list[list[RawEvent]]) -> None:
    for piece in slices:
        logged = [LoggedEvent(seq=i + 1, raw=e) for i, e in enumerate(piece)]
        with engine.begin() as conn:
            apply_derived(conn, derive(logged, lambda _p: CONFIG), None)


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {t.name: sorted(tuple(r) for r in conn.execute(select(t))) for t in DERIVED_TABLES}


def test_side_by_side_slices_give_the_clean_pass_state(engines: tuple[Engine, Engine]) -> None:
    clean, busy = engines
    store(clean, [TRACE])
    rnd = random.Random(11)
    events = TRACE + rnd.choices(TRACE, k=400)  # redelivered, to other workers
    rnd.shuffle(events)
    cuts = sorted(rnd.sample(range(1, len(events)), 20))
    slices = [events[a:b] for a, b in zip([0, *cuts], [*cuts, len(events)], strict=True)]
    assert max(len(s) for s in slices) >= STAGE_MIN_ROWS
    errors: list[BaseException] = []

    def work(share: list[list[RawEvent]]) -> None:
        try:
            store(busy, share)
        except BaseException as exc:  # a deadlock would land here
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(slices[i::3],)) for i in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert dump(busy) == dump(clean)
