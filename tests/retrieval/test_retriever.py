"""Retrieval over a real (in-memory FTS5) index: behaviour settles vague questions and leaves
specific ones alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from usertrail.model.config import ProjectConfig
from usertrail.retrieval.index import HelpIndex, load_help_index, project_indexes
from usertrail.retrieval.model import Signal
from usertrail.retrieval.retriever import complete, is_name, is_specific, retrieve

ARTICLES = {
    "export-errors.md": """---
title: Export failed (E42)
pages: [Report]
errors: [E42]
---
# Export failed (E42)

## E42 export timed out
The export took too long and failed. Export CSV instead of PDF.
""",
    "payment-failed.md": """---
title: Payment failed
pages: [Billing]
errors: [card_declined]
---
# Payment failed

## Card declined
The bank refused the charge and the payment failed. Replace the card.
""",
    "api-keys.md": """---
title: Rotating API keys
pages: [API keys]
---
# Rotating API keys

## Rotate a key
Create a new API key, switch your code to it, then revoke the old key.
""",
}


@pytest.fixture
def index(tmp_path: Path) -> HelpIndex:
    for name, text in ARTICLES.items():
        (tmp_path / name).write_text(text)
    return load_help_index(tmp_path)


def error(message: str) -> Signal:
    return Signal(
        kind="error",
        value=message,
        terms=tuple(message.lower().replace(":", "").split()),
        weight=1.0,
        reason=f"the user hit the error {message} twice in the last session",
    )


def test_without_behaviour_a_vague_question_is_a_coin_toss(index: HelpIndex) -> None:
    hits = retrieve(index, "why did it fail? the export or the payment?", k=3).hits
    assert {h.article for h in hits} == {"export-errors", "payment-failed"}


def test_a_recent_error_picks_the_article_about_it(index: HelpIndex) -> None:
    found = retrieve(index, "why did it fail?", [error("ExportError: E42 export timed out")], k=3)
    assert found.hits[0].article == "export-errors"
    assert found.hits[0].reasons == (
        "the user hit the error ExportError: E42 export timed out twice in the last session",
    )
    assert "e42" in found.expanded_with
    assert found.behaviour_share > 0.5


def test_the_page_the_user_is_on_finds_its_article_when_no_word_matches(
    index: HelpIndex,
) -> None:
    # No article says "billing" or "fix": only Payment failed's front matter ties it to the page.
    billing = Signal(
        kind="page", value="Billing", terms=("billing",), weight=0.5, reason="on Billing"
    )
    found = retrieve(index, "how do I fix this?", [billing], k=3)
    assert [h.article for h in found.hits] == ["payment-failed"]
    assert found.hits[0].reasons == ("on Billing",)


def test_a_specific_question_keeps_its_exact_answer_whatever_the_behaviour(
    index: HelpIndex,
) -> None:
    found = retrieve(
        index, "How do I rotate an API key?", [error("ExportError: E42 export timed out")]
    )
    assert found.hits[0].article == "api-keys"
    assert found.behaviour_share < 0.5


def test_a_question_with_no_known_words_falls_back_on_behaviour(index: HelpIndex) -> None:
    found = retrieve(index, "???", [error("PaymentError: card_declined")], k=1)
    assert [h.article for h in found.hits] == ["payment-failed"]


def test_projects_get_the_index_of_their_own_project_file(tmp_path: Path) -> None:
    help_dir = tmp_path / "help"
    help_dir.mkdir()
    (help_dir / "a.md").write_text(ARTICLES["api-keys.md"])
    with_help = ProjectConfig(help_docs="help")
    index_for = project_indexes(
        (None, ProjectConfig()), {"demo": (tmp_path / "demo.usertrail.yaml", with_help)}
    )
    demo = index_for("demo")
    assert demo is not None
    assert list(demo.articles) == ["a"]
    assert index_for("other") is None


def test_the_articles_that_hold_every_word_of_a_question_are_complete(index: HelpIndex) -> None:
    assert complete(index, ["revoke", "key"]) == {"api-keys"}
    assert complete(index, ["revoke", "card"]) == set()
    assert complete(index, ["key"]) == set()  # one word says too little
    assert complete(index, ["revoke", "key", "zyxwv"]) == {"api-keys"}  # unknown words left out


def test_a_misspelt_question_finds_what_the_spelt_one_finds(index: HelpIndex) -> None:
    assert retrieve(index, "how do I rotaet my API kye?").hits[0].article == "api-keys"
    assert retrieve(index, "raplace the crad").hits[0].article == "payment-failed"


def test_complaint_words_match_nothing_by_accident(index: HelpIndex) -> None:
    assert retrieve(index, "it's not working, nothing happens").hits == ()


def test_a_strong_match_keeps_its_place_against_behaviour_that_points_elsewhere(
    index: HelpIndex,
) -> None:
    card = error("PaymentError: card_declined")
    found = retrieve(index, "Create a new API key and revoke the old one", [card], k=3)
    assert found.hits[0].article == "api-keys"


def test_a_question_that_names_its_topic_keeps_its_order_however_weakly_it_matches(
    index: HelpIndex,
) -> None:
    question = "the bank and my colleague and the old charge"  # weak matches, no pointing word
    plain = [h.article for h in retrieve(index, question, k=3).hits]
    aware = retrieve(index, question, [error("ExportError: E42 export timed out")], k=3)
    assert [h.article for h in aware.hits][: len(plain)] == plain


def test_a_question_that_points_at_something_is_settled_by_the_behaviour(
    index: HelpIndex,
) -> None:
    question = "what happened to the old one there?"  # "old": a weak match of api-keys
    assert retrieve(index, question).hits[0].article == "api-keys"
    found = retrieve(index, question, [error("PaymentError: card_declined")])
    assert found.hits[0].article == "payment-failed"


def test_a_name_is_a_word_beyond_stop_words_contraction_tails_and_the_commonest_words(
    index: HelpIndex,
) -> None:
    assert is_name(index, "card")  # the articles hold it
    assert is_name(index, "colleague")  # an English word they do not use
    assert not is_name(index, "s")  # "it's"
    assert not is_name(index, "re")  # "we're"
    assert not is_name(index, "back")  # among the commonest English words
    assert not is_name(index, "zyxwv")  # neither


def test_a_word_few_articles_hold_is_specific(
    index: HelpIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("usertrail.retrieval.retriever.SPECIFIC_ARTICLES", 1)
    assert is_specific(index, "revoke")  # one article
    assert not is_specific(index, "failed")  # two
    assert not is_specific(index, "zyxwv")  # none
