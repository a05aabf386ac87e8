"""The assistant's prompt and its offline answer."""

from __future__ import annotations

import msgspec

from usertrail.model.config import ProjectConfig
from usertrail.retrieval.evaluation.cases import EvalCase, TraceStep, trace_events
from usertrail.retrieval.evaluation.replay import context_of
from usertrail.retrieval.model import Hit, Retrieval, SectionFit, Signal
from usertrail.retrieval.prompt import assemble, excerpt, second_person, template_answer
from usertrail.retrieval.signals import behaviour_signals

HIT = Hit(
    chunk_id="export-errors#1",
    article="export-errors",
    article_title="Export failed",
    title="Export failed > E42 – export timed out",
    text="The export took more than five minutes. Export CSV instead. Or shorten the range.",
    score=0.6,
    reasons=("the user hit the error E42 twice in the last session",),
)
FOUND = Retrieval(
    query="why?", expanded_with=("e42",), behaviour_share=0.8, signals=(), hits=(HIT,)
)


def test_the_prompt_holds_the_context_block_and_the_help_with_its_reasons() -> None:
    case = EvalCase(
        id="t",
        question="why?",
        expected="x",
        ambiguous=True,
        trace=(TraceStep(pageview="/reports/4"), TraceStep(exception="ExportError: E42 timeout")),
    )
    ctx = context_of(trace_events(case), ProjectConfig(), "user_1")
    prompt = assemble(ctx, FOUND, "why did it fail?")
    assert "## What this user has been doing" in prompt.system
    assert "### Export failed > E42 – export timed out (article `export-errors`)" in prompt.system
    assert "Picked because the user hit the error E42 twice" in prompt.system
    assert prompt.user == "why did it fail?"
    assert [m["role"] for m in prompt.messages()] == ["system", "user"]
    assert prompt.text().endswith("## The user's message\nwhy did it fail?\n")


def test_the_offline_answer_names_the_top_article_and_why_to_the_user() -> None:
    answer = template_answer(FOUND)
    assert answer.startswith("Have a look at “Export failed”, section “E42 – export timed out”.")
    assert "I picked it because you hit the error E42 twice in your last session." in answer
    assert "five minutes" in answer


def error_found(section: SectionFit, title: str) -> Retrieval:
    boom = Signal(
        kind="error",
        value="Generation failed ('context_length_exceeded')",
        terms=(),
        weight=0.5,
        reason="the user hit the error Generation failed ('context_length_exceeded') once",
    )
    hit = msgspec.structs.replace(
        HIT, title=title, article_title="Export failed", section=section, reasons=(boom.reason,)
    )
    return msgspec.structs.replace(FOUND, signals=(boom,), hits=(hit,))


def test_the_offline_answer_names_the_section_for_the_error_the_user_hit() -> None:
    answer = template_answer(error_found("error", "Export failed > E42 – export timed out"))
    assert answer.startswith(
        "You hit the error Generation failed ('context_length_exceeded'). The section "
        "“E42 – export timed out” of “Export failed” is about it:"
    )


def test_for_an_error_no_section_is_about_the_offline_answer_says_so() -> None:
    answer = template_answer(error_found("overview", "Export failed"))
    assert "none of its sections is about this one in particular" in answer
    assert "section “" not in answer
    assert "contact support" in answer


def test_when_nothing_tells_the_top_articles_apart_the_offline_answer_asks() -> None:
    other = msgspec.structs.replace(HIT, article="b", article_title="Sharing", reasons=())
    third = msgspec.structs.replace(HIT, article="c", article_title="Charts", reasons=())
    answer = template_answer(msgspec.structs.replace(FOUND, hits=(HIT, other, third)))
    assert answer.startswith(
        "I am not sure which help you need: it could be “Export failed”, “Sharing” or “Charts”."
    )


def test_a_first_hit_scoring_below_the_second_is_still_the_answer() -> None:
    lifted = msgspec.structs.replace(HIT, article="b", article_title="Sharing", score=0.9)
    answer = template_answer(msgspec.structs.replace(FOUND, hits=(HIT, lifted)))
    assert answer.startswith("Have a look at “Export failed”")


def test_a_weak_match_is_not_passed_off_as_an_answer() -> None:
    weak = msgspec.structs.replace(HIT, score=0.05)
    answer = template_answer(msgspec.structs.replace(FOUND, hits=(weak,)))
    assert answer.startswith("I could not find a help article that fits this.")


def test_with_nothing_found_the_offline_answer_says_so() -> None:
    empty = Retrieval(query="?", expanded_with=(), behaviour_share=0.0, signals=(), hits=())
    assert template_answer(empty).startswith("I could not find a help article")


def test_an_excerpt_keeps_whole_sentences() -> None:
    text = "One sentence here. " * 40
    cut = excerpt(text, limit=60)
    assert cut == "One sentence here. One sentence here. One sentence here."


def test_every_reason_behaviour_gives_reads_as_a_sentence_to_the_user() -> None:
    case = EvalCase(
        id="t",
        question="why?",
        expected="x",
        ambiguous=True,
        trace=(
            TraceStep(pageview="/reports/4"),
            TraceStep(click="Sync now"),
            TraceStep(rageclick="Export"),
            TraceStep(event="report_deleted", properties={"code": "E43"}),
            TraceStep(exception="ExportError: E42 timeout"),
        ),
    )
    reasons = [
        s.reason for s in behaviour_signals(context_of(trace_events(case), ProjectConfig(), "u"))
    ]
    assert len(reasons) >= 5
    for reason in reasons:
        said = second_person(reason)
        assert said.startswith("you "), said
        assert "the user" not in said
