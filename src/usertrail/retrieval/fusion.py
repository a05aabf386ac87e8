"""Ties, and the article-level mix of the question's match with the behaviour evidence. Pure.

An article's final score is how well the question matches it (its best section's BM25 score,
as a share of a typical title match) plus a bounded share for what the user did. Scores, not
ranks, are mixed: a question that matches one article far better than the others keeps that
article first whatever the behaviour, since behaviour adds at most `BEHAVIOUR_WEIGHT`; a
question that matches many articles equally (or none) is settled by the behaviour.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence, Set

from usertrail.retrieval.model import Article, Chunk, Hit, SectionFit, Signal
from usertrail.retrieval.text import contains_phrase, norm

# The most behaviour can add, in shares of a title match, from a question that matches its best
# article as well as `CLEAR` (or better) to one that matches nothing better than `VAGUE`: a lead
# in the question's own match larger than this is never overturned.
MIN_WEIGHT = 0.2
MAX_WEIGHT = 0.8
CLEAR = 0.6
VAGUE = 0.25
# An article the question matches at least this well keeps its place whatever the behaviour
# when it holds every topic word of the question, or leads the others clearly (`MARGIN`).
STRONG = 0.5
MARGIN = 0.8
MIN_GATE = 0.5
# Evidence of this size fills about two thirds of the weight: one specific tie (an error code
# one article declares, at full weight) or several weaker ones together.
EVIDENCE_SCALE = 0.5


def tied(article: Article, signal: Signal) -> bool:
    """Whether the article declares itself about what the signal says the user did."""
    match signal.kind:
        case "page" | "struggle":
            return norm(signal.value) in {norm(p) for p in article.pages}
        case "feature":
            return norm(signal.value) in {norm(f) for f in article.features}
        case "funnel":
            return norm(signal.value) in {norm(f) for f in article.funnels}
        case "error" | "event":  # an event's details may carry an error code (`code: E43`)
            return any(contains_phrase(signal.value, e) for e in article.errors)
    return False


def names_an_error(article: Article, chunk: Chunk, signals: Sequence[Signal]) -> bool:
    """Whether the chunk's own heading (not the article's title) names an error the article
    declares and the user hit: "E42 – export timed out" is the section for an E42."""
    heading = section_heading(article, chunk)
    return any(
        contains_phrase(heading, name) and contains_phrase(s.value, name)
        for s in signals
        if s.kind in ("error", "event")
        for name in article.errors
    )


def section_heading(article: Article, chunk: Chunk) -> str:
    return chunk.title.removeprefix(article.title).removeprefix(" > ")


def squash(evidence: float) -> float:
    """Evidence (0..) -> 0..1, with diminishing returns: many weak signals never add up to
    more than one certain one."""
    return 1.0 - math.exp(-max(evidence, 0.0) / EVIDENCE_SCALE)


def vagueness(query: Mapping[str, float]) -> float:
    """0 for a question that matches its best article as well as `CLEAR`, 1 from `VAGUE` down."""
    top = max(query.values(), default=0.0)
    return min(1.0, max(0.0, (CLEAR - top) / (CLEAR - VAGUE)))


def behaviour_weight(query: Mapping[str, float]) -> float:
    """How much behaviour may add, by how well the question matches its best article."""
    return MIN_WEIGHT + (MAX_WEIGHT - MIN_WEIGHT) * vagueness(query)


def gate(coverage: float, vague: float) -> float:
    """How much of its behaviour an article may use: all of it for a vague question; for a
    clearer one, less the fewer of the question's words (by rarity) the article holds, so a
    trace that points elsewhere cannot pull up an article the question does not ask about."""
    return 1.0 - (1.0 - vague) * (1.0 - max(MIN_GATE, coverage))


def mixed(
    query: Mapping[str, float],
    evidence: Mapping[str, float],
    coverage: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Every article either side knows, scored: question match + bounded behaviour.
    `coverage`: the share of the question's words each article holds (none: no gate)."""
    weight = behaviour_weight(query) if evidence else 0.0
    vague = vagueness(query)
    slugs = dict.fromkeys([*query, *evidence])
    return {
        slug: query.get(slug, 0.0)
        + weight
        * squash(evidence.get(slug, 0.0))
        * (gate(coverage.get(slug, 0.0), vague) if coverage is not None else 1.0)
        for slug in slugs
    }


def kept(query: Mapping[str, float], complete: Set[str]) -> list[str]:
    """The strong matches that keep their place, in the question's order: those that hold
    every topic word, and the first one when it leads the second clearly."""
    order = sorted(query, key=lambda s: (-query[s], s))
    strong = [s for s in order if query[s] >= STRONG]
    leads = bool(strong) and (len(order) < 2 or query[order[1]] <= MARGIN * query[order[0]])
    return [s for i, s in enumerate(strong) if s in complete or (i == 0 and leads)]


def ranked(
    scores: Mapping[str, float], query: Mapping[str, float], keep: Sequence[str] = ()
) -> list[str]:
    """Best first (equal scores go to the better question match, then by slug, so the order
    is stable), but no article the question matches less well than a kept one goes above
    it: each kept article is a floor that behaviour cannot lift a weaker match over. Above
    the floor, the kept article and the better matches are ordered by their scores, so it
    does not jump above a better match either."""
    floors = [query[k] for k in keep]

    def band(slug: str) -> int:  # how many floors the article stands on
        return sum(query.get(slug, 0.0) >= floor for floor in floors)

    return sorted(scores, key=lambda s: (-band(s), -scores[s], -query.get(s, 0.0), s))


def in_question_order(scores: Mapping[str, float], query: Mapping[str, float]) -> list[str]:
    """The question's own order, for a question that says what it is about: behaviour only
    orders what the question leaves equal (ties, and the articles it does not match at all),
    so no article the question matches goes below one it matches less well."""
    return sorted(scores, key=lambda s: (-round(query.get(s, 0.0), 9), -scores[s], s))


def article_scores(
    chunk_scores: Sequence[tuple[str, float]], chunks: Mapping[str, Chunk], reference: float
) -> dict[str, float]:
    """Each article's best section score, as a share of a typical title match: an article is
    judged by its best section, not by how many of its sections match a little."""
    best: dict[str, float] = {}
    for chunk_id, score in chunk_scores:
        best.setdefault(chunks[chunk_id].article, score)
    scale = reference if reference > 0 else 1.0
    return {slug: score / scale for slug, score in best.items()}


def hit(
    chunk: Chunk,
    article: Article | None,
    score: float,
    reasons: tuple[str, ...],
    section: SectionFit = "best",
) -> Hit:
    return Hit(
        chunk_id=chunk.id,
        article=chunk.article,
        article_title=article.title if article else chunk.title,
        title=chunk.title,
        text=chunk.text,
        score=round(score, 6),
        reasons=reasons,
        section=section,
    )


def per_article(hits: Sequence[Hit]) -> list[str]:
    """Articles in the order of their best chunk."""
    return list(dict.fromkeys(h.article for h in hits))
