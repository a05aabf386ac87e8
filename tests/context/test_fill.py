"""core.context.fill: the Markdown block filled up to a token budget, most useful lines first."""

from __future__ import annotations

import msgspec
import pytest

from tests.context.contexts import context_event, pattern, recommendation, user_context
from usertrail.core.context.budget import count_tokens
from usertrail.core.context.fill import fill_markdown
from usertrail.core.context.render import blocks, header, render_markdown
from usertrail.errors import BudgetTooSmall
from usertrail.model.context import UserContext

EVENTS = "### Recent activity (newest first)"
LONG = "Opened Billing many times across many sessions and never completed a plan choice " * 4


def room_for(ctx: UserContext, section: str, *lines: str) -> int:
    """Exactly the header, `section`'s heading and these lines."""
    head = count_tokens(header(ctx) + "\n") + count_tokens("\n\n" + section)
    return head + sum(count_tokens("\n" + t) for t in lines)


def test_without_a_budget_every_line_is_kept() -> None:
    ctx = user_context(events=5, patterns=(pattern("p"),), properties={"plan": "free"})
    assert fill_markdown(ctx, None) == render_markdown(ctx)


def test_a_budget_below_the_header_is_an_error_never_an_empty_block() -> None:
    ctx = user_context()
    need = count_tokens(header(ctx) + "\n")
    with pytest.raises(BudgetTooSmall, match=f"below the {need} tokens"):
        fill_markdown(ctx, need - 1)
    assert fill_markdown(ctx, need).startswith(header(ctx))


def test_the_block_never_exceeds_its_budget() -> None:
    ctx = user_context(
        events=40,
        patterns=(pattern("a"), pattern("b", LONG)),
        recommendations=(recommendation("a"), recommendation("b")),
        properties={"plan": "free", "seats": 3},
    )
    full = count_tokens(render_markdown(ctx))
    head = count_tokens(header(ctx) + "\n")
    for budget in range(head, full + 1, 7):
        assert count_tokens(fill_markdown(ctx, budget)) <= budget


def test_a_recommendation_is_never_shown_without_its_pattern() -> None:
    ctx = user_context(
        patterns=(pattern("billing", LONG),),
        recommendations=(recommendation("billing", "Offer a plan comparison"),),
    )
    room = room_for(ctx, "### Suggested next steps", "- Offer a plan comparison")
    text = fill_markdown(ctx, room)
    assert "plan comparison" not in text
    assert "### Suggested next steps" not in text


def test_a_line_too_long_for_the_room_left_is_skipped_and_a_shorter_later_one_kept() -> None:
    ctx = user_context(patterns=(pattern("long", LONG), pattern("short", "Exported twice")))
    text = fill_markdown(ctx, room_for(ctx, "### Patterns", "- Exported twice (since 2026-11-20)"))
    assert "Exported twice" in text
    assert "never completed" not in text
    assert text.count("### Patterns") == 1


def test_recent_events_stop_at_the_first_that_does_not_fit_leaving_no_gap() -> None:
    """Newest first: an older event must not stand where a newer one was left out."""
    older = user_context(events=3)
    budget = room_for(older, EVENTS, *(line.text for line in blocks(older)))
    assert fill_markdown(older, budget) == render_markdown(older)  # room for all three
    newest = context_event(3, label="Clicked " + " ".join(f"w{i}x" for i in range(200)))
    ctx = msgspec.structs.replace(older, recent_events=(*older.recent_events, newest))
    assert EVENTS not in fill_markdown(ctx, budget)
