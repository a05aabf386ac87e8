from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import click, make_event, pageview
from usertrail.core.timeline import device_label, timeline
from usertrail.model.event import Device

HOUR = timedelta(hours=1)
UPGRADE = 'button:text="Upgrade";div.plan-card:attr__data-ph-component="plan-picker"'


def test_sessions_and_their_events_come_newest_first() -> None:
    events = [
        make_event(at=0, session_id="s1"),
        make_event(at=10, session_id="s1"),
        make_event(at=600, session_id="s2"),
    ]
    sessions = timeline(events, HOUR)
    assert [s.id for s in sessions] == ["s2", "s1"]
    assert [e.ts for e in sessions[1].events] == [events[1].timestamp, events[0].timestamp]


def test_each_event_keeps_its_uuid_label_and_place() -> None:
    event = make_event(click("/settings/billing", UPGRADE), session_id="s1")
    [session] = timeline([event], HOUR)
    [shown] = session.events
    assert shown.uuid == event.uuid
    assert shown.label == "Clicked 'Upgrade' button in Plan picker on Billing"
    assert (shown.page, shown.component, shown.element) == (
        "Billing",
        "Plan picker",
        "button 'Upgrade'",
    )


def test_a_session_lists_its_pages_and_duration() -> None:
    events = [
        make_event(pageview("/dashboard", at=0), session_id="s1"),
        make_event(pageview("/settings/billing", at=90), session_id="s1"),
    ]
    [session] = timeline(events, HOUR)
    assert session.pages == ("Dashboard", "Billing")
    assert session.duration_s == 90


def test_a_repeated_event_shows_once() -> None:
    event = make_event(at=0, session_id="s1")
    [session] = timeline([event, event], HOUR)
    assert len(session.events) == 1


@pytest.mark.parametrize(
    ("device", "label"),
    [
        (Device(device_type="Desktop", browser="Chrome", os="Mac OS X"), "Chrome on Mac"),
        (
            Device(device_type="Mobile", browser="Mobile Safari", os="iOS"),
            "Mobile Safari on iOS (phone)",
        ),
        (Device(device_type="Tablet"), "tablet"),
        (Device(os="Linux"), "Linux"),
        (Device(), None),
        (None, None),
    ],
)
def test_a_session_names_its_device_as_people_say_it(
    device: Device | None, label: str | None
) -> None:
    assert device_label(device) == label
