"""core.context.budget: the JSON object cut to a token budget, in its stated order."""

from __future__ import annotations

import msgspec
import pytest

from tests.context.contexts import pattern, recommendation, user_context
from usertrail.core.context.budget import context_tokens, fit_to_budget
from usertrail.errors import BudgetTooSmall
from usertrail.model.context import UserContext


def with_events(ctx: UserContext, k: int) -> UserContext:
    return msgspec.structs.replace(ctx, recent_events=ctx.recent_events[-k:] if k else ())


def test_without_a_budget_the_context_is_returned_as_is() -> None:
    ctx = user_context(events=30)
    assert fit_to_budget(ctx, None) is ctx


def test_a_context_within_its_budget_is_neither_cut_nor_marked_truncated() -> None:
    ctx = user_context(events=5)
    assert fit_to_budget(ctx, context_tokens(ctx)) is ctx


def test_the_oldest_events_go_first_and_the_newest_stay_whole() -> None:
    ctx = user_context(events=30)
    budget = context_tokens(with_events(ctx, 10))
    fitted = fit_to_budget(ctx, budget)
    whole = [e for e in fitted.recent_events if e.page is not None]
    assert fitted.truncated
    assert context_tokens(fitted) <= budget
    assert whole == list(ctx.recent_events[-len(whole) :])
    assert len(whole) == 10


def test_room_a_whole_event_does_not_fit_in_holds_older_events_in_brief() -> None:
    ctx = user_context(events=30)
    one_event = context_tokens(with_events(ctx, 11)) - context_tokens(with_events(ctx, 10))
    budget = context_tokens(with_events(ctx, 10)) + one_event * 3 // 4
    fitted = fit_to_budget(ctx, budget)
    brief = fitted.recent_events[: len(fitted.recent_events) - 10]
    assert brief
    assert context_tokens(fitted) <= budget
    assert all((e.page, e.path, e.element) == (None, None, None) for e in brief)
    assert [e.ts for e in brief] == [e.ts for e in ctx.recent_events[20 - len(brief) : 20]]


def test_past_the_events_the_weakest_pattern_goes_with_its_recommendations() -> None:
    long = "Opened Billing many times across many sessions and never completed a plan choice " * 3
    ctx = user_context(
        patterns=(pattern("strong", long), pattern("weak", long)),
        recommendations=(recommendation("strong"), recommendation("weak")),
    )
    without_weak = msgspec.structs.replace(
        ctx, patterns=ctx.patterns[:1], recommendations=ctx.recommendations[:1]
    )
    fitted = fit_to_budget(ctx, context_tokens(without_weak))
    assert [p.id for p in fitted.patterns] == ["strong"]
    assert [r.because for r in fitted.recommendations] == ["strong"]


def test_the_sessions_key_actions_go_before_the_persons_properties() -> None:
    actions = tuple(f"Clicked 'Export report number {i}' button" for i in range(10))
    ctx = user_context(key_actions=actions, properties={"plan": "free", "seats": 3})
    assert ctx.last_session is not None
    no_actions = msgspec.structs.replace(
        ctx, last_session=msgspec.structs.replace(ctx.last_session, key_actions=())
    )
    fitted = fit_to_budget(ctx, context_tokens(no_actions))
    assert fitted.last_session is not None
    assert fitted.last_session.key_actions == ()
    assert fitted.user.properties == {"plan": "free", "seats": 3}


def test_events_dropped_for_room_come_back_once_something_else_made_room() -> None:
    """A pattern dropped frees room: the events that then fit are kept, not left out."""
    ctx = user_context(events=3, patterns=(pattern("p", "x " * 200),))
    no_pattern = msgspec.structs.replace(ctx, patterns=())
    fitted = fit_to_budget(ctx, context_tokens(no_pattern))
    assert fitted.patterns == ()
    assert fitted.recent_events == ctx.recent_events


def test_a_budget_below_the_bare_object_is_an_error_naming_what_it_needs() -> None:
    ctx = user_context(events=3, properties={"plan": "free"})
    bare = msgspec.structs.replace(
        ctx, recent_events=(), user=msgspec.structs.replace(ctx.user, properties={})
    )
    need = context_tokens(msgspec.structs.replace(bare, truncated=True))
    with pytest.raises(BudgetTooSmall, match=f"below the {need} tokens"):
        fit_to_budget(ctx, need - 1)


def test_the_prompt_block_is_counted_when_the_caller_asked_for_it() -> None:
    ctx = user_context(events=10)
    budget = context_tokens(ctx)
    assert fit_to_budget(ctx, budget) is ctx
    assert fit_to_budget(ctx, budget, with_prompt=True).truncated
