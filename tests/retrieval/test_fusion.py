"""Fusion: reciprocal ranks, ties, capped boosts, and how much behaviour counts."""

from __future__ import annotations

from usertrail.retrieval.fusion import (
    BOOST_CAP,
    RRF_K,
    Candidates,
    behaviour_share,
    boost,
    fuse,
    names_an_error,
    per_article,
    rrf,
    tie_order,
    tied,
)
from usertrail.retrieval.model import Article, Chunk, Signal


def signal(kind: str, value: str, weight: float = 1.0) -> Signal:
    return Signal(kind=kind, value=value, terms=(), weight=weight, reason=f"{kind} {value}")  # type: ignore[arg-type]


EXPORTS = Article(
    slug="export-errors",
    title="Export failed",
    pages=("Report",),
    features=("report_export", "Report export"),
    errors=("E42", "export failed"),
)
BILLING = Article(slug="billing", title="Plans", pages=("Billing",), funnels=("plan_selection",))
CHUNKS = {
    "export-errors#0": Chunk(id="export-errors#0", article="export-errors", title="T", text="x"),
    "billing#0": Chunk(id="billing#0", article="billing", title="P", text="y"),
}
ARTICLES = {"export-errors": EXPORTS, "billing": BILLING}


def test_rrf_sums_weighted_reciprocal_ranks() -> None:
    scores = rrf(
        [Candidates(name="a", ids=("x", "y")), Candidates(name="b", ids=("y",), weight=0.5)]
    )
    assert scores["x"] == 1 / (RRF_K + 1)
    assert scores["y"] == 1 / (RRF_K + 2) + 0.5 / (RRF_K + 1)


def test_ties_are_read_from_what_the_article_declares() -> None:
    assert tied(EXPORTS, signal("page", "Report"))
    assert tied(EXPORTS, signal("feature", "Report export"))
    assert tied(EXPORTS, signal("error", "'ExportError: E42 export timed out after 300 s'"))
    assert tied(BILLING, signal("funnel", "plan_selection"))
    assert tied(BILLING, signal("struggle", "billing"))
    assert not tied(EXPORTS, signal("error", "'QueryTimeout: E31 query timed out'"))
    assert not tied(EXPORTS, signal("error", "E421 something else"))  # whole words only
    assert not tied(BILLING, signal("page", "Report"))


def test_tied_articles_come_most_tied_first_and_untied_ones_not_at_all() -> None:
    other = Article(slug="other", title="Other", pages=("Report",))
    articles = {"billing": BILLING, "other": other, "export-errors": EXPORTS}
    page = signal("page", "Report", weight=0.5)
    error = signal("error", "E42 export timed out", weight=0.5)
    assert tie_order(articles, [page, error]) == ["export-errors", "other"]
    assert tie_order(articles, [page]) == ["other", "export-errors"]  # equal: mapping order
    assert tie_order(articles, [signal("funnel", "plan_selection", 0.35), page]) == [
        "other",
        "export-errors",
        "billing",
    ]
    assert tie_order(articles, []) == []


def test_a_section_is_named_for_an_error_by_its_own_heading() -> None:
    def section(title: str) -> Chunk:
        return Chunk(id="export-errors#1", article="export-errors", title=title, text="x")

    e42 = [signal("error", "ExportError: E42 export timed out")]
    assert names_an_error(EXPORTS, section("Export failed > E42 – timed out"), e42)
    assert not names_an_error(EXPORTS, section("Export failed > E43 – too large"), e42)
    assert not names_an_error(EXPORTS, section("Export failed"), e42)  # the title alone
    assert not names_an_error(EXPORTS, section("Export failed > E42"), [signal("page", "E42")])


def test_the_boost_is_capped_however_many_ties_and_lists_every_reason() -> None:
    signals = [signal("page", "Report"), signal("error", "E42"), signal("feature", "Report export")]
    amount, reasons = boost(EXPORTS, signals)
    assert amount == BOOST_CAP
    assert reasons == ("page Report", "error E42", "feature Report export")


def test_the_boost_is_worth_two_places_at_the_top_of_one_list() -> None:
    one_place = 1 / (RRF_K + 1) - 1 / (RRF_K + 2)
    assert 1.9 * one_place < BOOST_CAP < 2.1 * one_place


def test_behaviour_counts_less_the_more_the_question_says_on_its_own() -> None:
    assert behaviour_share(0.0, 15.0) == 1.0
    assert behaviour_share(7.5, 15.0) == 0.5
    assert behaviour_share(30.0, 15.0) == 0.0
    assert behaviour_share(3.0, 0.0) == 1.0  # an empty index has no reference


def test_a_boosted_chunk_says_why_and_an_unboosted_one_does_not() -> None:
    lists = [Candidates(name="query", ids=("billing#0", "export-errors#0"))]
    hits = fuse(lists, CHUNKS, ARTICLES, [signal("error", "E42 export timed out")])
    assert per_article(hits) == ["export-errors", "billing"]
    assert hits[0].reasons == ("error E42 export timed out",)
    assert hits[0].article_title == "Export failed"
    assert hits[1].reasons == ()


def test_with_no_behaviour_share_the_query_order_stands() -> None:
    lists = [Candidates(name="query", ids=("billing#0", "export-errors#0"))]
    hits = fuse(lists, CHUNKS, ARTICLES, [signal("error", "E42")], share=0.0)
    assert per_article(hits) == ["billing", "export-errors"]
    assert hits[1].reasons == ()


def test_an_exact_answer_stays_first_whatever_the_boosts() -> None:
    lists = [Candidates(name="query", ids=("billing#0", "export-errors#0"))]
    signals = [signal("error", "E42"), signal("page", "Report")]
    hits = fuse(lists, CHUNKS, ARTICLES, signals, pinned="export-errors#0")
    assert per_article(hits) == ["export-errors", "billing"]
    hits = fuse(lists, CHUNKS, ARTICLES, signals, pinned="billing#0")
    assert per_article(hits) == ["billing", "export-errors"]
