"""Fusion: ties, and the article-level mix of the question's match with behaviour."""

from __future__ import annotations

from usertrail.retrieval.fusion import (
    MAX_WEIGHT,
    MIN_WEIGHT,
    article_scores,
    behaviour_weight,
    gate,
    in_question_order,
    kept,
    mixed,
    names_an_error,
    ranked,
    squash,
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


def test_ties_are_read_from_what_the_article_declares() -> None:
    assert tied(EXPORTS, signal("page", "Report"))
    assert tied(EXPORTS, signal("feature", "Report export"))
    assert tied(EXPORTS, signal("error", "'ExportError: E42 export timed out after 300 s'"))
    assert tied(BILLING, signal("funnel", "plan_selection"))
    assert tied(BILLING, signal("struggle", "billing"))
    assert not tied(EXPORTS, signal("error", "'QueryTimeout: E31 query timed out'"))
    assert not tied(EXPORTS, signal("error", "E421 something else"))  # whole words only
    assert not tied(BILLING, signal("page", "Report"))


def test_an_error_code_in_a_custom_event_ties_like_an_error() -> None:
    assert tied(EXPORTS, signal("event", "Report export (status 'failed', code 'E42')"))
    assert not tied(EXPORTS, signal("click", "E42"))  # a click's text is words, not a tie


def test_a_section_is_named_for_an_error_by_its_own_heading() -> None:
    def section(title: str) -> Chunk:
        return Chunk(id="export-errors#1", article="export-errors", title=title, text="x")

    e42 = [signal("error", "ExportError: E42 export timed out")]
    assert names_an_error(EXPORTS, section("Export failed > E42 – timed out"), e42)
    assert not names_an_error(EXPORTS, section("Export failed > E43 – too large"), e42)
    assert not names_an_error(EXPORTS, section("Export failed"), e42)  # the title alone
    assert not names_an_error(EXPORTS, section("Export failed > E42"), [signal("page", "E42")])


def test_an_article_is_judged_by_its_best_section_not_by_how_many_match() -> None:
    chunks = {
        "a#0": Chunk(id="a#0", article="a", title="A", text="x"),
        "a#1": Chunk(id="a#1", article="a", title="A", text="x"),
        "b#0": Chunk(id="b#0", article="b", title="B", text="x"),
    }
    scores = article_scores([("b#0", 9.0), ("a#0", 6.0), ("a#1", 6.0)], chunks, reference=10.0)
    assert scores == {"b": 0.9, "a": 0.6}


def test_evidence_has_diminishing_returns_and_stays_below_one() -> None:
    assert squash(0.0) == 0.0
    assert squash(-1.0) == 0.0
    assert 0.5 < squash(0.5) < squash(1.0) < squash(100.0) <= 1.0


def test_behaviour_counts_less_the_better_the_question_matches() -> None:
    assert behaviour_weight({}) == MAX_WEIGHT
    assert behaviour_weight({"a": 0.1}) == MAX_WEIGHT
    assert MIN_WEIGHT < behaviour_weight({"a": 0.45}) < MAX_WEIGHT
    assert behaviour_weight({"a": 2.0}) == MIN_WEIGHT


def test_a_clear_question_confines_behaviour_to_articles_that_hold_its_words() -> None:
    assert gate(coverage=0.0, vague=1.0) == 1.0  # a vague question: behaviour decides
    assert gate(coverage=1.0, vague=0.0) == 1.0
    assert gate(coverage=0.0, vague=0.0) < gate(coverage=0.8, vague=0.0)
    assert gate(coverage=0.0, vague=0.0) > 0  # never nothing: the words may be the user's own


def test_a_lead_in_the_question_larger_than_the_behaviour_weight_is_never_overturned() -> None:
    for top in (0.1, 0.5, 1.5):
        query = {"asked": top, "other": top - behaviour_weight({"asked": top}) - 0.01}
        scores = mixed(query, {"other": 100.0})
        assert ranked(scores, query) == ["asked", "other"]


def test_between_equal_matches_behaviour_decides_and_without_evidence_nothing_moves() -> None:
    query = {"a": 0.2, "b": 0.19}
    assert ranked(mixed(query, {"b": 0.5}), query) == ["b", "a"]
    assert mixed(query, {}) == query


def test_behaviour_brings_in_articles_the_question_does_not_match() -> None:
    scores = mixed({}, {"tied": 0.5})
    assert list(scores) == ["tied"]
    assert scores["tied"] > 0


def test_a_strong_match_that_holds_every_word_keeps_its_place() -> None:
    query = {"a": 0.9, "b": 0.85, "c": 0.3}
    assert kept(query, complete={"b"}) == ["b"]
    scores = mixed(query, {"c": 100.0})
    assert ranked(scores, query, kept(query, {"b"})) == ["a", "b", "c"]


def test_a_kept_article_never_jumps_above_a_better_match() -> None:
    query = {"better": 0.7, "kept": 0.56, "pushed": 0.52}
    scores = {"better": 0.75, "kept": 0.56, "pushed": 0.9}  # behaviour lifted "pushed"
    assert ranked(scores, query, keep=["kept"]) == ["better", "kept", "pushed"]
    lifted = {"better": 0.7, "kept": 0.9, "pushed": 0.52}  # behaviour may lift a kept one
    assert ranked(lifted, query, keep=["kept"]) == ["kept", "better", "pushed"]
    assert ranked(scores, query) == ["pushed", "better", "kept"]  # nothing kept


def test_a_strong_match_that_leads_clearly_keeps_its_place() -> None:
    assert kept({"a": 0.9, "b": 0.3}, complete=set()) == ["a"]
    assert kept({"a": 0.9, "b": 0.85}, complete=set()) == []  # no clear lead
    assert kept({"a": 0.3, "b": 0.01}, complete={"a"}) == []  # too weak to be sure


def test_in_question_order_behaviour_orders_only_ties_and_unmatched_articles() -> None:
    query = {"a": 0.4, "b": 0.3, "c": 0.3}
    scores = {"a": 0.4, "b": 0.3, "c": 0.9, "d": 0.5, "e": 0.7}  # c, d, e lifted by behaviour
    assert in_question_order(scores, query) == ["a", "c", "b", "e", "d"]
