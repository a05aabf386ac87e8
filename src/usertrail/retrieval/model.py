"""The retrieval vocabulary: articles, chunks, behaviour signals and ranked hits."""

from __future__ import annotations

from typing import Literal

import msgspec

SignalKind = Literal["page", "feature", "error", "funnel", "struggle", "click", "event"]
# Why a hit shows the section it shows: it is the section for the error the user hit; it is the
# question's best section; the article is about the user's error but no section is about that
# error in particular (its start is shown); or it is the best one for the question with the
# behaviour's words.
SectionFit = Literal["error", "question", "overview", "best"]


class Article(msgspec.Struct, frozen=True, kw_only=True):
    """A help article and the product behaviour it declares itself about (front matter)."""

    slug: str  # the file name without `.md`
    title: str
    pages: tuple[str, ...] = ()  # readable page names, e.g. "Billing"
    features: tuple[str, ...] = ()  # feature keys or names, e.g. "report_export"
    errors: tuple[str, ...] = ()  # error codes or phrases, e.g. "E42", "export_timeout"
    funnels: tuple[str, ...] = ()  # funnel names, e.g. "plan_selection"


class Chunk(msgspec.Struct, frozen=True, kw_only=True):
    id: str  # "<slug>#<n>"
    article: str  # the article's slug
    title: str  # the header path: "Exporting a report > PDF exports"
    text: str


class Signal(msgspec.Struct, frozen=True, kw_only=True):
    """One thing the user did that can point at help: where they are, what failed..."""

    kind: SignalKind
    value: str  # the page, feature, error message or funnel it is about
    terms: tuple[str, ...]  # words it adds to the expanded query
    weight: float  # its share of the boost cap, 0..1
    reason: str  # why a tied article is boosted, in a sentence


class Hit(msgspec.Struct, frozen=True, kw_only=True):
    chunk_id: str
    article: str  # the article's slug
    article_title: str
    title: str  # the chunk's header path
    text: str
    score: float
    reasons: tuple[str, ...] = ()
    section: SectionFit = "best"


class Retrieval(msgspec.Struct, frozen=True, kw_only=True):
    query: str
    expanded_with: tuple[str, ...]  # the behaviour terms added to the query
    behaviour_share: float  # how much behaviour counted, 0..1 (less for a specific question)
    signals: tuple[Signal, ...]
    hits: tuple[Hit, ...]
