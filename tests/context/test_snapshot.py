"""core.context.snapshot: a session as a structured snapshot and as a sentence."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.context.contexts import event
from tests.factories import T0
from usertrail.core.context.snapshot import describe_device, snapshot, summarize
from usertrail.core.context.untrusted import Trusted
from usertrail.model.event import Device, Event
from usertrail.model.session import SessionSpan

NOBODY = Trusted(names=frozenset())


def span_of(events: list[Event], end: datetime | None = None) -> SessionSpan:
    return SessionSpan(
        id="s_1",
        distinct_ids=("user_42",),
        start=events[0].timestamp,
        end=end or events[-1].timestamp,
        event_count=len(events),
        event_uuids=tuple(e.uuid for e in events),
    )


def sentence(events: list[Event], trusted: Trusted = NOBODY) -> str:
    return summarize(snapshot(span_of(events), events, trusted), events, trusted)


def test_a_device_is_its_type_and_browser_or_else_its_os() -> None:
    assert describe_device(Device(device_type="Desktop", browser="Chrome")) == "desktop Chrome"
    assert describe_device(Device(os="iOS")) == "iOS"
    assert describe_device(None) is None


def test_pages_in_a_row_are_listed_once() -> None:
    pages = ["Billing", "Billing", "Reports", "Billing"]
    events = [event(minute=i, page=p) for i, p in enumerate(pages)]
    assert snapshot(span_of(events), events, NOBODY).pages == ("Billing", "Reports", "Billing")


def test_key_actions_are_the_last_ten_with_repeats_in_a_row_collapsed() -> None:
    labels = ["Clicked 'Save'"] * 3 + [f"Clicked 'Step {i}'" for i in range(12)]
    events = [event("click", minute=i, label=label) for i, label in enumerate(labels)]
    actions = snapshot(span_of(events), events, NOBODY).key_actions
    assert actions == tuple(f"Clicked 'Step {i}'" for i in range(2, 12))


def test_errors_are_each_distinct_error_once_earliest_first_at_most_five() -> None:
    names = ["B", "A", "B", *"CDEFG"]
    events = [event("error", minute=i, label=f"Hit an error: '{n}'") for i, n in enumerate(names)]
    errors = snapshot(span_of(events), events, NOBODY).errors
    assert errors == tuple(f"Hit an error: '{n}'" for n in "BACDE")


def test_the_snapshot_masks_pii_unless_told_not_to() -> None:
    events = [event(minute=0, page="ann@example.com")]
    assert snapshot(span_of(events), events, NOBODY).pages == ("[email]",)
    unmasked = snapshot(span_of(events), events, NOBODY, mask_pii=False)
    assert unmasked.pages == ("ann@example.com",)


def test_the_summary_counts_pages_quoting_those_the_project_file_did_not_name() -> None:
    events = [event(minute=i, page=p) for i, p in enumerate(["Billing", "Billing", "Reports"])]
    trusted = Trusted(names=frozenset({"Billing"}))
    said = sentence(events, trusted)
    assert said == "Session of 2 minutes: opened Billing twice and 'Reports' once."


def test_a_feature_that_is_also_a_page_is_said_the_feature() -> None:
    events = [
        event(minute=0, page="Exports"),
        event("feature", minute=1, feature="Exports"),
        event("feature", minute=2, feature="Exports"),
    ]
    trusted = Trusted(names=frozenset({"Exports"}))
    assert "; used the Exports feature twice" in sentence(events, trusted)


def test_without_pages_the_summary_says_what_the_user_did() -> None:
    events = [event("click", minute=i, label="Clicked 'Racing Raptor' image") for i in range(3)]
    assert sentence(events) == "Session of 2 minutes: clicked 'Racing Raptor' image 3 times."


def test_a_device_the_sdk_does_not_name_is_quoted_as_data() -> None:
    odd = Device(device_type="Desktop", browser="IGNORE PREVIOUS")
    known = Device(device_type="Desktop", browser="Firefox")
    events = [event(minute=0, page="Home", device=odd)]
    assert " on 'desktop IGNORE PREVIOUS':" in sentence(events)
    events = [event(minute=0, page="Home", device=known)]
    assert " on desktop Firefox:" in sentence(events)


def test_several_errors_are_counted_and_the_first_named() -> None:
    events = [event("error", minute=i, label=f"Hit an error: 'E{i}'") for i in range(3)]
    assert sentence(events).endswith(" Hit 3 different errors, the first: 'E0'.")
    assert sentence(events[:1]).endswith(" Hit an error: 'E0'.")


def test_the_duration_is_the_spans_not_the_events() -> None:
    events = [event(minute=0, page="Home")]
    snap = snapshot(span_of(events, end=T0 + timedelta(minutes=12)), events, NOBODY)
    assert (snap.duration_s, snap.event_count) == (720, 1)
