"""The context's last session is the one `sessionize` would end with, though only its own
span is made: the last by (end, id) of those with any activity, else of them all."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import make_event
from usertrail.core.context.build import _last_session
from usertrail.core.sessions import sessionize
from usertrail.model.config import ProjectConfig
from usertrail.model.event import Event
from usertrail.model.session import SessionSpan

CONFIG = ProjectConfig()


def from_every_span(events: Sequence[Event]) -> tuple[SessionSpan | None, list[Event]]:
    """What the context did before: every span made, then the last active one picked."""
    spans = sessionize(events, timedelta(minutes=CONFIG.session_timeout_minutes))
    active = {e.uuid for e in events if e.kind != "identify"}
    spans = [s for s in spans if active.intersection(s.event_uuids)] or spans
    if not spans:
        return None, []
    last = max(spans, key=lambda s: (s.end, s.id))
    members = set(last.event_uuids)
    return last, [e for e in events if e.uuid in members]


@st.composite
def histories(draw: st.DrawFn) -> list[Event]:
    """Short and long gaps, shared and missing session ids, lone `$identify`s, same-instant
    events, and the odd event twice (a retry), once as an `$identify`."""
    events: list[Event] = []
    for at, session, identify in draw(
        st.lists(
            st.tuples(
                st.integers(0, 6 * 3600),
                st.sampled_from([None, "s1", "s2", "s/é"]),
                st.booleans(),
            ),
            max_size=30,
        )
    ):
        event = make_event(at=at, session_id=session)
        events.append(msgspec.structs.replace(event, kind="identify") if identify else event)
    retried: bool = draw(st.booleans())
    if events and retried:
        twice = draw(st.sampled_from(events))
        kind = draw(st.sampled_from([twice.kind, "identify"]))
        events.insert(draw(st.integers(0, len(events))), msgspec.structs.replace(twice, kind=kind))
    return events


@settings(max_examples=300, deadline=None)
@given(histories())
def test_the_last_session_is_the_one_all_the_spans_would_give(events: list[Event]) -> None:
    assert _last_session(events, CONFIG) == from_every_span(events)
