"""`max_tokens` budgets what is returned (issue 17, item 1), across the whole corpus: the
Markdown block is filled up to the budget, most useful first; the JSON object (no prompt
unless asked) is cut to it; with enough history at least 85% of the budget is used."""

from __future__ import annotations

import msgspec
import pytest

from tests.context.corpus import Case, all_cases, generated_cases
from usertrail.core.context.budget import count_tokens
from usertrail.core.context.build import MAX_EVENTS, ContextOptions
from usertrail.errors import BudgetTooSmall
from usertrail.model.context import UserContext

CASES = all_cases()
BUDGETS = (300, 1500, 4000)
FILLED = 0.85


def sent_json(ctx: UserContext, with_prompt: bool = False) -> str:
    return msgspec.json.encode(
        ctx if with_prompt else msgspec.structs.replace(ctx, prompt=None)
    ).decode()


def history_tokens(case: Case, format: str) -> int:
    """What the whole history costs in `format`, without a budget."""
    ctx = case.context(
        ContextOptions(n=MAX_EVENTS, format="markdown" if format == "markdown" else "json")
    )
    return count_tokens(ctx.prompt or "") if format == "markdown" else count_tokens(sent_json(ctx))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@pytest.mark.parametrize("budget", BUDGETS)
def test_the_markdown_block_fills_its_budget_and_never_exceeds_it(case: Case, budget: int) -> None:
    block = case.context(ContextOptions(format="markdown", max_tokens=budget)).prompt or ""
    used = count_tokens(block)
    assert used <= budget
    # A hostile trace's lines are 100 tokens and more by construction: a line is kept whole.
    if history_tokens(case, "markdown") > budget and not case.id.startswith("hostile/"):
        assert used >= FILLED * budget, f"{used} of {budget}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
@pytest.mark.parametrize("budget", BUDGETS)
def test_the_json_object_fills_its_budget_and_never_exceeds_it(case: Case, budget: int) -> None:
    try:
        ctx = case.context(ContextOptions(max_tokens=budget))
    except BudgetTooSmall:
        assert budget == 300  # a user whose bare object is larger: a clear error
        return
    used = count_tokens(sent_json(ctx))
    assert used <= budget
    if history_tokens(case, "json") > budget:
        assert ctx.truncated
        # Events are whole: below 85% only when not even the next one, in brief, fits.
        assert used >= FILLED * budget or used + next_event_tokens(case, ctx) > budget


def next_event_tokens(case: Case, fitted: UserContext) -> int:
    """Tokens of the event just older than the oldest `fitted` kept, as time, type and label."""
    events = case.context(ContextOptions(n=MAX_EVENTS)).recent_events
    e = events[len(events) - len(fitted.recent_events) - 1]
    return (
        count_tokens(msgspec.json.encode({"ts": e.ts, "type": e.type, "label": e.label}).decode())
        + 1
    )


def test_the_corpus_has_enough_history_to_fill_every_budget() -> None:
    """Else the two tests above would pass without filling anything."""
    long = list(generated_cases())
    for budget in BUDGETS:
        assert sum(history_tokens(c, "markdown") > budget for c in long) >= 3, budget


def test_with_a_budget_the_block_keeps_who_state_patterns_then_the_newest_events() -> None:
    case = next(c for c in generated_cases() if c.id == "generated/5")
    full = case.context(ContextOptions(n=MAX_EVENTS, format="markdown")).prompt or ""
    block = case.context(ContextOptions(format="markdown", max_tokens=1500)).prompt or ""
    sections = [line for line in block.splitlines() if line.startswith("#")]
    assert sections == [
        "## What this user has been doing",
        "### Last session",
        "### Patterns",
        "### Suggested next steps",
        "### Recent activity (newest first)",
    ]
    events = [line for line in block.splitlines() if line.startswith("- 20")]
    all_events = [line for line in full.splitlines() if line.startswith("- 20")]
    assert events == all_events[: len(events)]  # a prefix: the newest, none skipped
    assert len(events) < len(all_events)


def test_json_leaves_out_the_prompt_unless_asked_and_counts_it_when_asked() -> None:
    case = next(c for c in generated_cases() if c.id == "generated/5")
    plain = case.context(ContextOptions(max_tokens=1500))
    asked = case.context(ContextOptions(max_tokens=1500, include_prompt=True))
    assert "prompt" not in sent_json(plain)
    assert count_tokens(sent_json(asked, with_prompt=True)) <= 1500
    assert len(asked.recent_events) < len(plain.recent_events)  # the block takes its share


def test_a_budget_smaller_than_the_header_is_a_clear_error_never_an_empty_block() -> None:
    case = next(c for c in generated_cases() if c.id == "generated/0")
    for options in (
        ContextOptions(format="markdown", max_tokens=64),
        ContextOptions(max_tokens=64),
    ):
        with pytest.raises(BudgetTooSmall, match="max_tokens=64 is below the"):
            case.context(options)
