"""A generated section-level check: a user who hit an error that a help section is named for,
asking a vague question, should get that section first, because it is what `/assist` quotes.
Pure; no hand-written cases: every section whose own heading names an error its article
declares ("E42 – export timed out") is checked."""

from __future__ import annotations

import msgspec

from usertrail.retrieval.fusion import names_an_error
from usertrail.retrieval.retriever import Searcher, retrieve
from usertrail.retrieval.signals import error_signal

QUESTIONS = ("why did it fail?", "how do I fix this?", "what does this error mean?")


class SectionScore(msgspec.Struct, frozen=True, kw_only=True):
    question: str
    first: int  # sections retrieved first
    sections: int  # (section, error) pairs checked
    missed: tuple[str, ...]  # "chunk id: error" for the others


def named_sections(index: Searcher) -> list[tuple[str, str]]:
    """(chunk id, error name) for every section whose own heading names a declared error."""
    pairs = []
    for chunk_id, chunk in index.chunks.items():
        if (article := index.articles.get(chunk.article)) is None:
            continue
        for name in article.errors:
            if names_an_error(article, chunk, [error_signal(name, 1, True, None)]):
                pairs.append((chunk_id, name))
    return pairs


def section_scores(index: Searcher) -> tuple[SectionScore, ...]:
    pairs = named_sections(index)
    scores = []
    for question in QUESTIONS:
        missed = tuple(
            f"{chunk_id}: {name}"
            for chunk_id, name in pairs
            if _first(index, question, name) != chunk_id
        )
        scores.append(
            SectionScore(
                question=question,
                first=len(pairs) - len(missed),
                sections=len(pairs),
                missed=missed,
            )
        )
    return tuple(scores)


def _first(index: Searcher, question: str, error: str) -> str | None:
    """The top chunk for the question from a user who just hit the error (its name as the
    message, once, in the last session)."""
    hits = retrieve(index, question, [error_signal(error, 1, True, None)], k=1).hits
    return hits[0].chunk_id if hits else None
