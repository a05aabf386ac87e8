"""The text defects an LLM would read (issue 17, "Text defects"), one behaviour each, on the
real pipeline (normalize -> counters -> build_context)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import make_raw, pageview
from tests.traces import login_trace
from usertrail.core.context.build import ContextOptions
from usertrail.core.normalize import normalize
from usertrail.core.text import duration_words
from usertrail.core.timeline import timeline
from usertrail.model.config import ProjectConfig
from usertrail.model.context import UserContext
from usertrail.model.raw import RawEvent
from usertrail.retrieval.evaluation.replay import context_of

ANON = "01a20d2d-c5a9-7b82-980d-84670943beb7"
FAILED = {"failure_reason": "timeout", "$session_id": "s1"}


def context(trace: list[RawEvent], user_id: str = "user_1") -> UserContext:
    return context_of(trace, ProjectConfig(), user_id, ContextOptions(format="markdown"))


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0, "1 second"), (1, "1 second"), (16, "16 seconds"), (60, "1 minute"), (900, "15 minutes")],
)
def test_a_duration_has_one_wording(seconds: int, words: str) -> None:
    assert duration_words(seconds) == words


def test_hours_are_said_with_one_decimal_and_agree_with_their_number() -> None:
    assert (duration_words(3600), duration_words(5400)) == ("1 hour", "1.5 hours")


def test_a_one_event_session_says_1_event() -> None:
    ctx = context([make_raw("$pageleave", properties={"$session_id": "s1"})])
    assert ctx.last_session_summary == "Session of 1 second: 1 event."


def test_a_session_without_urls_says_what_the_user_did_once() -> None:
    ctx = context([make_raw("report_shared", properties={"$session_id": "s1"})])
    assert ctx.last_session_summary == "Session of 1 second: triggered 'Report shared' once."


def test_one_error_is_said_once_not_hit_1_error_hit_an_error() -> None:
    ctx = context([make_raw("generation_failed", properties=FAILED)])
    assert ctx.last_session_summary is not None
    assert ctx.last_session_summary.endswith(" Hit an error: 'Generation failed' ('timeout').")
    assert ctx.last_session_summary.count("Hit") == 1


def test_several_errors_are_counted_and_the_first_is_named_once() -> None:
    other = {"failure_reason": "quota", "$session_id": "s1"}
    trace = [
        make_raw("generation_failed", properties=FAILED),
        make_raw("export_failed", at=5, properties=other),
    ]
    summary = context(trace).last_session_summary or ""
    assert summary.endswith(" Hit 2 different errors, the first: 'Generation failed' ('timeout').")


def test_a_repeated_error_pattern_names_the_error_once() -> None:
    trace = [make_raw("generation_failed", at=i, properties=FAILED) for i in range(2)]
    [pattern] = [p for p in context(trace).patterns if p.id.startswith("repeated_error:")]
    assert pattern.summary == "Hit the same error twice: 'Generation failed' ('timeout')"


def test_an_anonymous_person_is_an_anonymous_visitor_not_a_uuid() -> None:
    ctx = context([pageview("/reports", distinct_id=ANON)], user_id=ANON)
    assert "**User**: an anonymous visitor (not identified yet)" in (ctx.prompt or "")
    assert ANON not in (ctx.prompt or "")
    assert ctx.user.id == ANON  # the JSON keeps the id the caller can look up


def test_a_session_has_the_same_duration_on_the_dashboard_and_in_the_prompt() -> None:
    trace = login_trace()
    ctx = context_of(trace, ProjectConfig(), "user_42", ContextOptions(format="markdown"))
    events = [normalize(raw, ProjectConfig()) for raw in trace]
    sessions = {s.id: s for s in timeline(events, timedelta(minutes=30))}
    assert ctx.last_session is not None
    shown = sessions[ctx.last_session.id]
    assert shown.duration_s == ctx.last_session.duration_s
    summary = ctx.last_session_summary or ""
    assert summary.startswith((f"Session of {shown.duration}:", f"Session of {shown.duration} on"))


def test_an_email_used_as_an_id_is_masked_wherever_the_model_reads_it() -> None:
    email = "jane@example.com"
    ctx = context([pageview("/reports", distinct_id=email)], user_id=email)
    assert email not in (ctx.prompt or "")
    assert (ctx.user.id, ctx.user.distinct_ids) == ("[email]", ("[email]",))
