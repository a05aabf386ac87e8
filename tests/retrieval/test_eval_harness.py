"""The evaluation harness: the shipped cases, the metrics, and a small slice run end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from usertrail.demo.project import DEMO_PROJECT_FILE
from usertrail.errors import ConfigError
from usertrail.retrieval.evaluation.cases import parse_cases
from usertrail.retrieval.evaluation.harness import DEFAULT_CASES, load_cases, markdown, run_eval
from usertrail.retrieval.evaluation.metrics import rank_of, scores
from usertrail.retrieval.evaluation.run import CaseResult, report_of

HELP = DEMO_PROJECT_FILE.parent / "help"
SLICE = 24  # the first cases: a mix of ambiguous and unambiguous questions


def test_reciprocal_rank_and_recall_are_computed_per_case() -> None:
    assert rank_of("b", ["a", "b", "c"]) == 2
    assert rank_of("z", ["a"]) is None
    result = scores([1, 2, None, 6])
    assert result.cases == 4
    assert result.recall_at_1 == 0.25
    assert result.recall_at_5 == 0.5
    assert result.mrr == pytest.approx((1 + 1 / 2 + 0 + 1 / 6) / 4)


def test_the_shipped_set_covers_every_article_with_enough_varied_cases() -> None:
    cases = load_cases(DEFAULT_CASES)
    articles = {p.stem for p in HELP.glob("*.md")}
    assert len(cases) >= 60
    assert {c.expected for c in cases} == articles
    assert sum(c.ambiguous for c in cases) >= 60
    assert sum(not c.ambiguous for c in cases) >= 20


def result(case_id: str, ambiguous: bool, before: int | None, after: int | None) -> CaseResult:
    return CaseResult(
        id=case_id,
        ambiguous=ambiguous,
        expected="a",
        query_only=before,
        behaviour=after,
        top_query_only=None,
        top_behaviour=None,
    )


def test_any_unambiguous_question_ranked_lower_with_behaviour_is_a_regression() -> None:
    # Behaviour lifts b from 3 to 1, so the unambiguous MRR rises; c still dropped.
    fine = (result("a", False, 1, 1), result("b", False, 3, 1), result("v", True, 1, 4))
    assert not report_of(fine).regressed()
    for c in (result("c", False, 1, 2), result("c", False, 2, None)):
        report = report_of((*fine, c))
        assert report.behaviour["unambiguous"].mrr > report.query_only["unambiguous"].mrr
        assert report.dropped() == ("c",)
        assert report.regressed()


def test_a_case_step_must_be_one_kind_of_event() -> None:
    text = """
cases:
- id: x
  question: q
  expected: a
  ambiguous: true
  trace: [{pageview: /, click: Save}]
"""
    with pytest.raises(ConfigError, match="a step is one of"):
        parse_cases(text)


def test_a_slice_of_the_set_runs_and_behaviour_helps_its_ambiguous_questions() -> None:
    report = run_eval(DEFAULT_CASES, DEMO_PROJECT_FILE, limit=SLICE)
    assert len(report.results) == SLICE
    ambiguous = [r for r in report.results if r.ambiguous]
    assert ambiguous
    assert report.query_only["ambiguous"].cases == len(ambiguous)
    expected_mrr = sum(1 / r.behaviour for r in ambiguous if r.behaviour) / len(ambiguous)
    assert report.behaviour["ambiguous"].mrr == pytest.approx(expected_mrr)
    assert report.behaviour["ambiguous"].mrr > report.query_only["ambiguous"].mrr
    assert not report.regressed()
    assert markdown(report).startswith("| questions | cases |")


def test_a_case_id_may_occur_once_across_files(tmp_path: Path) -> None:
    case = "cases:\n- {id: x, question: q, expected: a, ambiguous: true, trace: [{pageview: /}]}\n"
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(case)
    second.write_text(case)
    assert [c.id for c in load_cases([first])] == ["x"]
    with pytest.raises(ConfigError, match=r"duplicate case ids \['x'\]"):
        load_cases([first, second])


def test_cases_naming_an_unknown_article_are_refused(tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "cases:\n- {id: x, question: q, expected: nope, ambiguous: true, trace: [{pageview: /}]}\n"
    )
    with pytest.raises(ValueError, match="nope"):
        run_eval([cases], DEMO_PROJECT_FILE)
