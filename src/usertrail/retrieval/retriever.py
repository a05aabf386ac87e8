"""Retrieval with and without behaviour: articles scored by the question and by what the user
did, each article shown by the section that fits best, with the reasons."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence, Set
from typing import Protocol

from usertrail.retrieval.clarity import names_its_topic
from usertrail.retrieval.evidence import Evidence, Index, behaviour_evidence
from usertrail.retrieval.fusion import (
    article_scores,
    hit,
    in_question_order,
    kept,
    mixed,
    names_an_error,
    ranked,
    section_heading,
    tied,
)
from usertrail.retrieval.model import Article, Chunk, Hit, Retrieval, SectionFit, Signal
from usertrail.retrieval.text import STOP_WORDS, dedupe, terms
from usertrail.retrieval.text import words as all_words

MAX_BEHAVIOUR_TERMS = 12
MIN_EXACT_WORDS = 2
# From this share of a title match on, the question's best section in an article is the
# section to show, whatever the behaviour: the user asked about it.
QUESTION_SECTION = 0.3
# A word that at most this many articles hold names one topic: a question that holds it and
# points at nothing ("2fa", "sso", "card declined") says what it is about.
SPECIFIC_ARTICLES = 2


class Searcher(Index, Protocol):
    """What retrieval needs of an index (`HelpIndex` is one): evidence's, and spelling."""

    def spelled(self, query_words: Sequence[str]) -> list[str]: ...

    def articles_with(self, word: str) -> frozenset[str]: ...

    @property
    def real_words(self) -> Set[str]: ...

    @property
    def common_words(self) -> Set[str]: ...


def retrieve(index: Searcher, query: str, signals: Sequence[Signal] = (), k: int = 5) -> Retrieval:
    """Top `k` articles' best sections for the query; with no signals, the query alone."""
    words = index.spelled(terms(query))
    raw = index.search(words)
    asked = article_scores(raw, index.chunks, index.reference_score)
    evidence = behaviour_evidence(index, signals) if signals else {}
    scores = mixed(asked, {slug: e.score for slug, e in evidence.items()}, coverage(index, words))
    extra = behaviour_terms(signals, words)
    expanded = index.search([*words, *extra]) if extra else []
    sections = Sections(index, signals, raw, expanded, asked)
    order = article_order(index, (query, words), scores, asked, bool(evidence))
    hits = [
        _hit(index, sections.best(slug), scores[slug], evidence.get(slug)) for slug in order[:k]
    ]
    return Retrieval(
        query=query,
        expanded_with=tuple(extra),
        behaviour_share=behaviour_share(hits, asked),
        signals=tuple(signals),
        hits=tuple(hits),
    )


def article_order(
    index: Searcher,
    question: tuple[str, Sequence[str]],
    scores: Mapping[str, float],
    asked: Mapping[str, float],
    behaviour: bool,
) -> list[str]:
    """The question's own order when it says what it is about (behaviour orders only its ties
    and what it does not match); else the mixed scores, strong matches keeping their place.
    `question`: as typed, and its topic words."""
    query, words = question
    if says_what_it_is_about(index, query):
        return in_question_order(scores, asked)
    return ranked(scores, asked, kept(asked, complete(index, words)) if behaviour else [])


def says_what_it_is_about(index: Searcher, query: str) -> bool:
    question = index.spelled(all_words(query))
    return names_its_topic(question, lambda w: is_name(index, w), lambda w: is_specific(index, w))


def is_name(index: Searcher, word: str) -> bool:
    """Whether a word names something: not a stop word nor one of the commonest English
    words, and the articles hold it or it is an English word they do not use ("colleague")."""
    if word in STOP_WORDS or word in index.common_words or len(word) < 2:
        return False  # "s" of "it's" names nothing
    return bool(index.articles_with(word)) or word in index.real_words


def is_specific(index: Searcher, word: str) -> bool:
    """Whether only a few articles hold the word: it names one topic ("2fa", "sso", "429")."""
    return 0 < len(index.articles_with(word)) <= SPECIFIC_ARTICLES


def complete(index: Searcher, words: Sequence[str]) -> set[str]:
    """The articles that hold every topic word of a question of two or more words (words no
    article holds, such as a name, are left out)."""
    holders = [h for w in words if (h := index.articles_with(w))]
    if len(holders) < MIN_EXACT_WORDS:
        return set()
    return set.intersection(*(set(h) for h in holders))


def coverage(index: Searcher, words: Sequence[str]) -> dict[str, float] | None:
    """Each article's share of the question's words, weighed by rarity (IDF over articles),
    for a question of two or more words the index knows; None for a shorter one."""
    holders = {w: h for w in words if (h := index.articles_with(w))}
    if len(holders) < MIN_EXACT_WORDS:
        return None
    total = len(index.articles) + 1
    rarity = {w: math.log(total / len(h)) for w, h in holders.items()}
    whole = sum(rarity.values()) or 1.0
    shares: dict[str, float] = {}
    for w, h in holders.items():
        for slug in h:
            shares[slug] = shares.get(slug, 0.0) + rarity[w] / whole
    return shares


def _hit(
    index: Searcher, section: tuple[Chunk, SectionFit], score: float, evidence: Evidence | None
) -> Hit:
    chunk, fit = section
    reasons = evidence.reasons if evidence else ()
    return hit(chunk, index.articles.get(chunk.article), score, reasons, fit)


def behaviour_share(hits: Sequence[Hit], asked: Mapping[str, float]) -> float:
    """How much of the top article's score came from behaviour, 0..1."""
    if not hits or hits[0].score <= 0:
        return 0.0
    top = hits[0]
    return round(max(0.0, 1.0 - asked.get(top.article, 0.0) / top.score), 3)


class Sections:
    """Which section stands for an article: the one named for the error the user hit; else
    the question's best section, when the question matches the article; else, for an article
    about an error the user hit, the section whose heading shares the error's words, or the
    article's start (never a section for some other failure); else the section that best
    matches the question with the behaviour's words."""

    def __init__(
        self,
        index: Searcher,
        signals: Sequence[Signal],
        raw: Sequence[tuple[str, float]],
        expanded: Sequence[tuple[str, float]],
        asked: Mapping[str, float],
    ) -> None:
        self._index = index
        self._signals = signals
        self._raw = _best_chunks(raw, index.chunks)
        self._expanded = _best_chunks(expanded, index.chunks)
        self._asked = asked

    def best(self, slug: str) -> tuple[Chunk, SectionFit]:
        chunks = [c for c in self._index.chunks.values() if c.article == slug]
        article = self._index.articles.get(slug)
        chosen = self._fitting(article, chunks) if article else None
        if chosen:
            return chosen
        for best in (self._raw, self._expanded):
            if slug in best:
                return self._index.chunks[best[slug]], "best"
        return chunks[0], "best"

    def _fitting(
        self, article: Article, chunks: Sequence[Chunk]
    ) -> tuple[Chunk, SectionFit] | None:
        """The error's own section; the question's when it asks about this article; the
        article's start for an error no section is about."""
        if named := [c for c in chunks if names_an_error(article, c, self._signals)]:
            return named[0], "error"
        if self._asked.get(article.slug, 0.0) >= QUESTION_SECTION and article.slug in self._raw:
            return self._index.chunks[self._raw[article.slug]], "question"
        if errors := [s for s in self._signals if s.kind == "error" and tied(article, s)]:
            fits = error_section(article, chunks, errors)
            return (fits, "error") if fits else (chunks[0], "overview")
        return None


def error_section(
    article: Article, chunks: Sequence[Chunk], errors: Sequence[Signal]
) -> Chunk | None:
    """The section whose own heading shares a word of the error's message beyond what the
    article is about as a whole: "Generation failed ('model_timeout')" -> "Timeout"."""
    common = set(terms(" ".join([article.title, *article.errors])))
    for signal in errors:
        specific = {_stem(w) for w in signal.terms if w not in common}
        for chunk in chunks:
            if specific & {_stem(w) for w in terms(section_heading(article, chunk))}:
                return chunk
    return None


def _stem(word: str) -> str:
    """Enough stemming to compare a heading with an error reason: "timeouts" ~ "timeout"."""
    return word.removesuffix("s") if len(word) > 3 else word


def _best_chunks(
    scored: Sequence[tuple[str, float]], chunks: Mapping[str, Chunk]
) -> dict[str, str]:
    best: dict[str, str] = {}
    for chunk_id, _ in scored:
        best.setdefault(chunks[chunk_id].article, chunk_id)
    return best


def behaviour_terms(signals: Sequence[Signal], query_words: Sequence[str]) -> list[str]:
    """Words the signals add to the query, strongest signal first, bounded."""
    ordered = sorted(signals, key=lambda s: -s.weight)
    seen = set(query_words)
    return [t for t in dedupe(t for s in ordered for t in s.terms) if t not in seen][
        :MAX_BEHAVIOUR_TERMS
    ]
