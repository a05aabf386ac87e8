"""Recall@k and mean reciprocal rank over article rankings. Pure."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec


class Scores(msgspec.Struct, frozen=True, kw_only=True):
    cases: int
    recall_at_1: float
    recall_at_5: float
    mrr: float


def rank_of(expected: str, ranking: Sequence[str]) -> int | None:
    """1-based position of the expected article, or None if it was not retrieved."""
    return ranking.index(expected) + 1 if expected in ranking else None


def scores(ranks: Sequence[int | None]) -> Scores:
    n = len(ranks)
    if n == 0:
        return Scores(cases=0, recall_at_1=0.0, recall_at_5=0.0, mrr=0.0)
    hits = [r for r in ranks if r is not None]
    return Scores(
        cases=n,
        recall_at_1=sum(r <= 1 for r in hits) / n,
        recall_at_5=sum(r <= 5 for r in hits) / n,
        mrr=sum(1 / r for r in hits) / n,
    )
