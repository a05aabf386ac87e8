"""The section-level check on the demo's help: after an error, a vague question gets the
section named for that error, which is what `/assist` quotes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from usertrail.demo.project import DEMO_PROJECT_FILE
from usertrail.project_file import load_project_file
from usertrail.retrieval.evaluation.cases import EvalCase, TraceStep, trace_events
from usertrail.retrieval.evaluation.replay import context_of
from usertrail.retrieval.evaluation.sections import named_sections, section_scores
from usertrail.retrieval.index import HelpIndex, help_folder, load_help_index
from usertrail.retrieval.model import Retrieval
from usertrail.retrieval.prompt import template_answer
from usertrail.retrieval.retriever import retrieve
from usertrail.retrieval.signals import behaviour_signals, error_signal


@pytest.fixture(scope="module")
def demo_help() -> Iterator[HelpIndex]:
    config = load_project_file(DEMO_PROJECT_FILE)
    folder = help_folder(DEMO_PROJECT_FILE, config.help_docs)
    assert folder is not None
    index = load_help_index(folder, config)
    yield index
    index.close()


def test_sections_are_named_by_their_own_heading_not_the_article_title(
    demo_help: HelpIndex,
) -> None:
    pairs = named_sections(demo_help)
    assert ("export-errors#1", "E42") in pairs  # "E42 – export timed out"
    assert ("export-errors#2", "E43") in pairs
    # The article's intro chunk carries only the title "… (E42, E43)": not a named section.
    assert not [p for p in pairs if p[0] == "export-errors#0"]


def test_after_an_error_why_and_how_to_fix_get_the_section_named_for_it(
    demo_help: HelpIndex,
) -> None:
    scores = {s.question: s for s in section_scores(demo_help)}
    for question in ("why did it fail?", "how do I fix this?"):
        assert scores[question].sections >= 10
        assert scores[question].missed == ()


def test_two_vague_words_in_one_chunk_are_not_an_exact_answer(demo_help: HelpIndex) -> None:
    # "error" and "mean" both occur in the connection-errors intro; behaviour still decides.
    hits = retrieve(
        demo_help,
        "what does this error mean?",
        [error_signal("PermissionError: E403 permission denied", 1, True, None)],
        k=1,
    ).hits
    assert [h.chunk_id for h in hits] == ["roles-and-permissions#3"]


def demo_failure(demo_help: HelpIndex, reason: str) -> Retrieval:
    """The demo's "Simulate Generation Failure" on Billing, then "why did it fail?"."""
    failed = {"failure_reason": reason, "input_prompt": "Summarize Q3 revenue by region"}
    case = EvalCase(
        id="demo",
        question="why did it fail?",
        expected="ai-generation-failures",
        ambiguous=True,
        trace=(
            TraceStep(pageview="/settings/billing"),
            TraceStep(event="generation_failed", properties=failed),
        ),
    )
    config = load_project_file(DEMO_PROJECT_FILE)
    ctx = context_of(trace_events(case), config, "user_1")
    return retrieve(demo_help, case.question, behaviour_signals(ctx), k=3)


def test_a_failure_no_section_is_about_gets_the_article_start_and_says_so(
    demo_help: HelpIndex,
) -> None:
    found = demo_failure(demo_help, "context_length_exceeded")
    top = found.hits[0]
    assert (top.article, top.chunk_id, top.section) == (
        "ai-generation-failures",
        "ai-generation-failures#0",
        "overview",
    )
    answer = template_answer(found)
    assert "Monthly limit" not in answer
    assert "none of its sections is about this one in particular" in answer


@pytest.mark.parametrize(
    ("reason", "heading"), [("model_timeout", "Timeout"), ("content_filter", "Content policy")]
)
def test_a_failure_reason_finds_the_section_whose_heading_names_it(
    demo_help: HelpIndex, reason: str, heading: str
) -> None:
    top = demo_failure(demo_help, reason).hits[0]
    assert top.title == f"Why AI generation failed > {heading}"
    assert top.section == "error"
