from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import msgspec

from tests.core.test_patterns import billing_abandoner, power_user, struggling_user
from tests.factories import make_event, make_raw
from usertrail.core.context.build import ContextInputs, ContextOptions
from usertrail.model.config import ProjectConfig
from usertrail.model.context import Account, UserContext, UserInfo
from usertrail.model.event import EVERYONE, Event
from usertrail.model.person import PersonRef
from usertrail.services.context_cache import ContextCache
from usertrail.services.live import ANYONE, LiveUpdates, touches
from usertrail.settings import Settings
from usertrail.wiring import build_runtime

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def context_for(*ids: str) -> UserContext:
    user = UserInfo(id=ids[-1], distinct_ids=ids, properties={}, first_seen=NOW, last_seen=NOW)
    return UserContext(
        user=user,
        recent_events=(),
        last_session_summary=None,
        last_session=None,
        patterns=(),
        recommendations=(),
        generated_at=NOW,
        truncated=False,
    )


def test_a_new_event_for_any_of_the_persons_ids_drops_the_cached_context() -> None:
    cache = ContextCache()
    cache.put(("p1", "user_42", 20), context_for("anon-1", "user_42"))
    cache.invalidate([make_event(make_raw(distinct_id="someone_else", project_id="p1"))])
    assert cache.get(("p1", "user_42", 20)) is not None
    cache.invalidate([make_event(make_raw(distinct_id="anon-1", project_id="p1"))])
    assert cache.get(("p1", "user_42", 20)) is None


def group_identify(key: str) -> Event:
    props = {"$group_type": "company", "$group_key": key, "$group_set": {"plan": "pro"}}
    return make_event(make_raw("$groupidentify", distinct_id="$company_x", properties=props))


def inputs_for(*ids: str) -> ContextInputs:
    person = PersonRef(
        project_id="p1", key=ids[-1], distinct_ids=ids, first_seen=NOW, last_seen=NOW
    )
    return ContextInputs(
        person=person,
        user_id=ids[-1],
        properties={},
        events=(),
        counters={},
        config=ProjectConfig(),
    )


def test_a_context_loaded_before_a_change_of_its_person_is_served_but_not_kept() -> None:
    """Its reads may predate the change: kept, it would be served stale until the TTL."""
    cache, key = ContextCache(), ("p1", "user_42", ContextOptions())
    since = cache.generation()
    cache.invalidate([make_event(make_raw(distinct_id="anon-1", project_id="p1"))])
    loaded = (inputs_for("anon-1", "user_42"), 20, since)
    cache.put(key, context_for("anon-1", "user_42"), loaded=loaded)
    assert cache.get(key) is None
    # A change of someone else does not count against it.
    since = cache.generation()
    cache.invalidate([make_event(make_raw(distinct_id="someone-else", project_id="p1"))])
    loaded = (inputs_for("anon-1", "user_42"), 20, since)
    cache.put(key, context_for("anon-1", "user_42"), loaded=loaded)
    assert cache.get(key) is not None


def test_an_update_of_the_users_account_under_another_id_drops_the_cached_context() -> None:
    cache = ContextCache()
    acme = Account(type="company", key="acme", properties={"plan": "free"})
    ctx = msgspec.structs.replace(context_for("user_42"), accounts=(acme,))
    cache.put(("p1", "user_42", 20), ctx)
    cache.invalidate([group_identify("globex")])
    assert cache.get(("p1", "user_42", 20)) is not None
    cache.invalidate([group_identify("acme")])
    assert cache.get(("p1", "user_42", 20)) is None


def test_events_of_another_project_do_not_drop_it() -> None:
    cache = ContextCache()
    cache.put(("p1", "user_42", 20), context_for("user_42"))
    cache.invalidate([make_event(make_raw(distinct_id="user_42", project_id="p2"))])
    assert cache.get(("p1", "user_42", 20)) is not None


def test_entries_expire_after_the_ttl() -> None:
    cache = ContextCache(ttl_s=-1)
    cache.put(("p1", "u", 20), context_for("u"))
    assert cache.get(("p1", "u", 20)) is None


def test_size_zero_disables_the_cache() -> None:
    cache = ContextCache(size=0)
    cache.put(("p1", "u", 20), context_for("u"))
    assert cache.get(("p1", "u", 20)) is None


def test_a_bypassed_cache_keeps_nothing_until_it_is_on_again() -> None:
    """`serve` standing by: this process hears of no change, so it keeps nothing."""
    cache = ContextCache()
    cache.put(("p1", "u1", 20), context_for("u1"))
    cache.bypass(True)
    assert cache.get(("p1", "u1", 20)) is None  # what it held is dropped
    cache.put(("p1", "u2", 20), context_for("u2"))
    assert cache.get(("p1", "u2", 20)) is None
    cache.bypass(False)
    cache.put(("p1", "u2", 20), context_for("u2"))
    assert cache.get(("p1", "u2", 20)) is not None


async def test_everyone_wakes_every_live_subscriber_with_anyone() -> None:
    live = LiveUpdates()
    async with live.subscribe("p1") as first, live.subscribe("p2") as second:
        live.publish([make_event(make_raw(distinct_id="u1", project_id="p1"))])
        assert first.get_nowait() == frozenset({"u1"})
        assert second.empty()
        live.publish([EVERYONE])
        assert first.get_nowait() is ANYONE
        assert second.get_nowait() is ANYONE
        assert touches(ANYONE, {"u9"})
        assert not touches(frozenset({"u1"}), {"u9"})


async def test_a_cached_context_reads_back_equal_to_the_one_built(tmp_path: Path) -> None:
    """Entries are kept encoded; decoding one must give the very object that was built, with
    patterns, evidence and recommendations (three personas' traces on one user)."""
    runtime = build_runtime(Settings(data_dir=tmp_path, demo=False))
    project = runtime.default_project
    trace = billing_abandoner() + power_user() + struggling_user()
    await runtime.event_log.append(
        [msgspec.structs.replace(r, project_id=project.id, distinct_id="u1") for r in trace]
    )
    await runtime.processor.drain()
    built = await runtime.context.for_user(project, "u1", ContextOptions())
    cached = await runtime.context.for_user(project, "u1", ContextOptions())
    await runtime.close()
    assert built.patterns
    assert built.recommendations
    assert cached == built
