"""Retrieval with and without behaviour: the raw query's list, the behaviour-expanded list,
fused, boosted and explained."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from usertrail.retrieval.fusion import (
    Candidates,
    behaviour_share,
    fuse,
    names_an_error,
    tie_order,
)
from usertrail.retrieval.model import Article, Chunk, Retrieval, Signal
from usertrail.retrieval.text import dedupe, terms

MAX_BEHAVIOUR_TERMS = 12
MIN_EXACT_WORDS = 2
# From this behaviour share on, behaviour outweighs the words: the question is vague by its own
# measure, and two vague words found together in a chunk ("error", "mean") are no answer.
VAGUE_SHARE = 0.5


class Searcher(Protocol):
    """What retrieval needs of an index (`HelpIndex` is one)."""

    @property
    def articles(self) -> Mapping[str, Article]: ...

    @property
    def chunks(self) -> Mapping[str, Chunk]: ...

    @property
    def reference_score(self) -> float: ...

    def search(self, words: Sequence[str], limit: int = ...) -> list[tuple[str, float]]: ...

    def matching_all(self, words: Sequence[str]) -> set[str]: ...


def retrieve(index: Searcher, query: str, signals: Sequence[Signal] = (), k: int = 5) -> Retrieval:
    """Top `k` chunks for the query; with no signals this is the raw query alone (BM25)."""
    words = terms(query)
    raw = index.search(words)
    extra = behaviour_terms(signals, words)
    share = behaviour_share(raw[0][1] if raw else 0.0, index.reference_score) if extra else 0.0
    # The raw query's list against two behaviour lists (the query expanded with the signals'
    # words, and the articles tied to the signals), mixed by how vague the question is.
    lists = [Candidates(name="query", ids=tuple(cid for cid, _ in raw), weight=1.0 - share)]
    if share > 0:
        expanded = tuple(cid for cid, _ in index.search([*words, *extra]))
        lists.append(Candidates(name="behaviour", ids=expanded, weight=share / 2))
        ties = tied_chunks(index, signals, expanded)
        lists.append(Candidates(name="ties", ids=ties, weight=share / 2))
    pinned = exact_answer(index, words, raw) if share < VAGUE_SHARE else None
    hits = fuse(lists, index.chunks, index.articles, signals, share, pinned)
    return Retrieval(
        query=query,
        expanded_with=tuple(extra) if share > 0 else (),
        behaviour_share=round(share, 3) if signals else 0.0,
        signals=tuple(signals),
        hits=tuple(hits[:k]),
    )


def exact_answer(
    index: Searcher, words: Sequence[str], raw: Sequence[tuple[str, float]]
) -> str | None:
    """The raw query's top chunk when it contains every topic word of a question that has
    at least two: an exact answer, which behaviour never moves from the top."""
    if len(words) < MIN_EXACT_WORDS or not raw:
        return None
    top = raw[0][0]
    return top if top in index.matching_all(words) else None


def tied_chunks(
    index: Searcher, signals: Sequence[Signal], expanded: Sequence[str]
) -> tuple[str, ...]:
    """One chunk per tied article, most tied first, equally tied ones in the expanded query's
    order. An article stands for its section named for an error the user hit, else its best
    chunk in the expanded list, else its first chunk: more chunks of one article would push
    the other tied articles down the list."""
    best: dict[str, str] = {}
    for chunk_id in (*expanded, *index.chunks):  # the index keeps each article's order
        best.setdefault(index.chunks[chunk_id].article, chunk_id)
    articles = {slug: index.articles[slug] for slug in best if slug in index.articles}
    order = tie_order(articles, signals)
    tied_slugs = set(order)  # only a tied article's section can stand for it
    named: dict[str, str] = {}
    for chunk_id, chunk in index.chunks.items():
        slug = chunk.article
        unnamed = slug in tied_slugs and slug not in named
        if unnamed and names_an_error(articles[slug], chunk, signals):
            named[slug] = chunk_id
    return tuple(named.get(slug, best[slug]) for slug in order)


def behaviour_terms(signals: Sequence[Signal], query_words: Sequence[str]) -> list[str]:
    """Words the signals add to the query, strongest signal first, bounded."""
    ordered = sorted(signals, key=lambda s: -s.weight)
    seen = set(query_words)
    return [t for t in dedupe(t for s in ordered for t in s.terms) if t not in seen][
        :MAX_BEHAVIOUR_TERMS
    ]
