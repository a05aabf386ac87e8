"""How strongly the user's behaviour points at each article, and why. Pure over the index.

Two kinds of evidence, both weighed by how specific they are:
- a tie: the article's front matter names the page, feature, error or funnel of a signal.
  A page that 12 of 33 articles name says little; an error code one article names says a lot
  (an IDF over the articles tied to the signal).
- words: the signal's own words (a click's text, an event's name, an error's message) found in
  the article, by BM25 (which weighs rare words above common ones), and weighed again by how
  few articles they match: "New alert" matches one article, "Save" a dozen.
An article's evidence is the sum over signals, read at the article level (its best section).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Protocol

import msgspec

from usertrail.retrieval.fusion import tied
from usertrail.retrieval.model import Article, Chunk, Signal
from usertrail.retrieval.text import norm

TIE_GAIN = 1.0
# A signal's words that match an article as well as its title would ("New alert" and the
# alerts article) say as much as a tie.
WORDS_GAIN = 1.0
# Signal words that match an article this weakly (a share of a typical title match) say
# nothing about it: one common word in a long section.
MIN_WORDS_MATCH = 0.25
SHARPNESS = 2.0
MIN_REASON = 0.05  # evidence below this is too slight to be given as a reason
# Only a click names a control: a struggle's value is its page, which articles may bold.
CONTROL_KINDS = frozenset(("click",))


class Index(Protocol):
    """What evidence needs of an index (retriever.Searcher, and so `HelpIndex`, is one)."""

    @property
    def articles(self) -> Mapping[str, Article]: ...

    @property
    def chunks(self) -> Mapping[str, Chunk]: ...

    @property
    def reference_score(self) -> float: ...

    @property
    def controls(self) -> Mapping[str, frozenset[str]]: ...

    def search(self, words: Sequence[str], limit: int = ...) -> list[tuple[str, float]]: ...


class Evidence(msgspec.Struct, frozen=True, kw_only=True):
    score: float  # the sum of the signals' parts
    reasons: tuple[str, ...]  # strongest first


def specificity(tied_articles: int, total: int) -> float:
    """1 for a signal only one article is tied to, falling towards 0 as more share it."""
    if tied_articles <= 0 or total <= 1:
        return 1.0 if tied_articles > 0 else 0.0
    return math.log((total + 1) / tied_articles) / math.log(total + 1)


def article_matches(index: Index, words: Sequence[str]) -> dict[str, float]:
    """Each article's best section score for the words, as a share of a typical title match
    (capped at 1), leaving out matches too weak to mean anything."""
    if not words or index.reference_score <= 0:
        return {}
    best: dict[str, float] = {}
    for chunk_id, score in index.search(words):
        best.setdefault(index.chunks[chunk_id].article, score)
    shares = {slug: min(1.0, s / index.reference_score) for slug, s in best.items()}
    return {slug: s for slug, s in shares.items() if s >= MIN_WORDS_MATCH}


def signal_parts(index: Index, signal: Signal) -> dict[str, float]:
    """What one signal adds to each article: its tie (weighed by specificity), the control it
    names, and its words."""
    articles = index.articles
    ties = [slug for slug, article in articles.items() if tied(article, signal)]
    parts = dict.fromkeys(ties, TIE_GAIN * specificity(len(ties), len(articles)))
    for slug, part in control_parts(index, signal).items():
        parts[slug] = max(parts.get(slug, 0.0), part)
    if signal.kind != "page":  # a page's name is its tie; as words it matches everything
        matches = article_matches(index, signal.terms)
        rare = specificity(len(matches), len(articles))
        for slug, share in matches.items():
            parts[slug] = parts.get(slug, 0.0) + WORDS_GAIN * share * rare
    return {slug: signal.weight * part for slug, part in parts.items()}


def control_parts(index: Index, signal: Signal) -> dict[str, float]:
    """A click on a control that articles name ("**Sync now**") ties the user to them, as
    specific as few articles name it."""
    if signal.kind not in CONTROL_KINDS:
        return {}
    named = index.controls.get(norm(signal.value), frozenset())
    return dict.fromkeys(named, TIE_GAIN * specificity(len(named), len(index.articles)))


def behaviour_evidence(index: Index, signals: Sequence[Signal]) -> dict[str, Evidence]:
    """Every article some signal points at, with its evidence and the reasons behind it."""
    totals: dict[str, float] = {}
    reasons: dict[str, list[tuple[float, str]]] = {}
    for signal in signals:
        for slug, part in signal_parts(index, signal).items():
            totals[slug] = totals.get(slug, 0.0) + part
            if part >= MIN_REASON:
                reasons.setdefault(slug, []).append((part, signal.reason))
    return {
        slug: Evidence(
            score=total,
            reasons=tuple(dict.fromkeys(r for _, r in sorted(reasons.get(slug, []), key=_first))),
        )
        for slug, total in totals.items()
    }


def _first(item: tuple[float, str]) -> float:
    return -item[0]
