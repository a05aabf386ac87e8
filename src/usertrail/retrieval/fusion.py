"""Rank fusion and behaviour boosts, with the reason for every boost. Pure.

The final score of a chunk is reciprocal-rank fusion of the candidate lists (the raw query's
list is always one of them; the behaviour lists are the expanded query's and the articles
tied to what the user did) plus a capped boost for those tied articles. Every behaviour part
is scaled by `behaviour_share`: the more the question says on its own, the less behaviour
counts, so behaviour decides between plausible answers and never buries an exact one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from usertrail.retrieval.model import Article, Chunk, Hit, Signal
from usertrail.retrieval.text import contains_phrase, norm

RRF_K = 60
# The whole boost is worth two places at the top of one list (one place is 1/(K+1)^2): enough
# to decide between near-equal candidates, never a jump from the middle of the list to the top.
BOOST_CAP = 2 / (RRF_K + 1) ** 2


class Candidates(msgspec.Struct, frozen=True, kw_only=True):
    """One ranked list of chunk ids (best first) and its weight in the fusion."""

    name: str
    ids: tuple[str, ...]
    weight: float = 1.0


def rrf(lists: Sequence[Candidates], k: int = RRF_K) -> dict[str, float]:
    scores: dict[str, float] = {}
    for cand in lists:
        for rank, chunk_id in enumerate(cand.ids, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + cand.weight / (k + rank)
    return scores


def tied(article: Article, signal: Signal) -> bool:
    """Whether the article declares itself about what the signal says the user did."""
    match signal.kind:
        case "page" | "struggle":
            return norm(signal.value) in {norm(p) for p in article.pages}
        case "feature":
            return norm(signal.value) in {norm(f) for f in article.features}
        case "funnel":
            return norm(signal.value) in {norm(f) for f in article.funnels}
        case "error":
            return any(contains_phrase(signal.value, e) for e in article.errors)
    return False


def names_an_error(article: Article, chunk: Chunk, signals: Sequence[Signal]) -> bool:
    """Whether the chunk's own heading (not the article's title) names an error the article
    declares and the user hit: "E42 – export timed out" is the section for an E42."""
    heading = chunk.title.removeprefix(article.title).removeprefix(" > ")
    return any(
        contains_phrase(heading, name) and contains_phrase(s.value, name)
        for s in signals
        if s.kind == "error"
        for name in article.errors
    )


def tie_order(articles: Mapping[str, Article], signals: Sequence[Signal]) -> list[str]:
    """The articles tied to at least one signal, most tied first (the sum of their signals'
    weights, uncapped: an article tied to the error and the page beats one tied to the page
    alone); equal ones keep the mapping's order."""
    strength = {
        slug: sum(s.weight for s in signals if tied(article, s))
        for slug, article in articles.items()
    }
    return sorted((slug for slug, w in strength.items() if w > 0), key=lambda s: -strength[s])


def boost(
    article: Article, signals: Sequence[Signal], share: float = 1.0
) -> tuple[float, tuple[str, ...]]:
    """The capped boost for one article and the reasons behind it, strongest first."""
    ties = sorted((s for s in signals if tied(article, s)), key=lambda s: -s.weight)
    total = min(1.0, sum(s.weight for s in ties))
    return BOOST_CAP * total * share, tuple(dict.fromkeys(s.reason for s in ties))


def fuse(
    lists: Sequence[Candidates],
    chunks: Mapping[str, Chunk],
    articles: Mapping[str, Article],
    signals: Sequence[Signal],
    share: float = 1.0,
    pinned: str | None = None,
) -> list[Hit]:
    """Every candidate chunk, best first; `share` scales the boosts (`behaviour_share`);
    `pinned` (an exact answer) stays first."""
    scores = rrf(lists)
    boosts = {slug: boost(a, signals, share) for slug, a in articles.items()}
    hits = []
    for chunk_id, score in scores.items():
        chunk = chunks[chunk_id]
        extra, reasons = boosts.get(chunk.article, (0.0, ()))
        article = articles.get(chunk.article)
        hits.append(
            Hit(
                chunk_id=chunk_id,
                article=chunk.article,
                article_title=article.title if article else chunk.title,
                title=chunk.title,
                text=chunk.text,
                score=round(score + extra, 6),
                reasons=reasons if extra > 0 else (),
            )
        )
    hits.sort(key=lambda h: (h.chunk_id != pinned, -h.score, h.chunk_id))
    return hits


def behaviour_share(top_score: float, reference: float) -> float:
    """How much behaviour counts, 0..1: all of it for a question whose words match nothing
    well, none for one that matches a chunk as strongly as a typical article title matches
    its own article (`reference`)."""
    if reference <= 0:
        return 1.0
    return max(0.0, 1.0 - top_score / reference)


def per_article(hits: Sequence[Hit]) -> list[str]:
    """Articles in the order of their best chunk."""
    return list(dict.fromkeys(h.article for h in hits))
