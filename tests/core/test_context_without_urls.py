"""Events without a URL (a backend, a mobile app): the context still says what happened."""

from __future__ import annotations

from tests.factories import T0, make_event, make_raw
from usertrail.core.aggregates import counter_keys, merge_counters
from usertrail.core.context.build import ContextInputs, ContextOptions, build_context
from usertrail.model.config import ProjectConfig
from usertrail.model.counter import Counter
from usertrail.model.person import PersonRef
from usertrail.model.raw import RawEvent

RAPTOR = 'img.h-48:attr__alt="Racing Raptor";div.card'


def context_of(raws: list[RawEvent]) -> str:
    config = ProjectConfig()
    events = tuple(make_event(r, config) for r in raws)
    rows = [
        (k, Counter(count=1, first=e.timestamp, last=e.timestamp))
        for e in events
        for k in counter_keys(e, config)
    ]
    person = PersonRef(
        project_id="p1", key="user_1", distinct_ids=("user_1",), first_seen=T0, last_seen=T0
    )
    inputs = ContextInputs(
        person=person,
        user_id="user_1",
        properties={},
        events=events,
        counters=merge_counters(rows),
        config=config,
    )
    ctx = build_context(inputs, ContextOptions(), events[-1].timestamp)
    return ctx.prompt or ""


def test_a_session_without_urls_is_summarised_by_what_the_user_did() -> None:
    raws = [
        *[
            make_raw("$rageclick", at=i, properties={"$elements_chain": RAPTOR, "$session_id": "s"})
            for i in range(3)
        ],
        make_raw("$ai_generation", at=10, properties={"$session_id": "s", "$ai_model": "m"}),
    ]
    prompt = context_of(raws)
    assert (
        "Session of 10 seconds: rage-clicked 'Racing Raptor' 3 times and got an AI answer" in prompt
    )
    assert "?" not in prompt
