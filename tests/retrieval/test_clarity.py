"""Whether a question says what it is about, or points at something on the screen."""

from __future__ import annotations

from usertrail.retrieval.clarity import names_its_topic, points
from usertrail.retrieval.text import words

NAMES = frozenset(("colleague", "workspace", "invite", "report", "reports", "binned", "email"))
NAMES |= frozenset(("monday", "lists", "viewed", "undo", "mistake"))


def is_name(word: str) -> bool:
    return word in NAMES


def test_a_question_that_names_three_things_says_what_it_is_about() -> None:
    assert names_its_topic(words("how do I invite my colleague to our workspace?"), is_name)


def test_a_question_that_names_one_thing_and_points_at_the_rest_does_not() -> None:
    assert not names_its_topic(words("can I undo that?"), is_name)
    assert not names_its_topic(words("undo this report"), is_name)


def test_a_demonstrative_points_at_the_screen() -> None:
    assert points(words("how do I change this?"), is_name)
    assert points(words("does that one count?"), is_name)


def test_a_pronoun_after_a_name_refers_back_to_it() -> None:
    assert not points(words("I binned a report by mistake, can I get it back?"), is_name)
    assert points(words("why did it fail?"), is_name)


def test_that_right_after_a_name_is_a_relative_pronoun() -> None:
    assert not points(words("stop the Monday email that lists the reports I viewed"), is_name)


def test_a_question_that_points_needs_five_names() -> None:
    assert names_its_topic(words("this workspace report colleague email invite"), is_name)
    assert not names_its_topic(words("this workspace report colleague"), is_name)


def test_there_next_to_is_says_that_something_exists() -> None:
    assert not points(words("is there a way to invite my colleague?"), is_name)
    assert not points(words("there's no invite email"), is_name)
    assert points(words("how do I get in there?"), is_name)


def test_a_short_question_that_names_something_few_articles_hold_names_its_topic() -> None:
    def few(word: str) -> bool:
        return word == "invite"

    assert names_its_topic(words("invite"), is_name, few)
    assert names_its_topic(words("the invite email?"), is_name, few)
    assert not names_its_topic(words("email"), is_name, few)  # many articles hold it
    assert not names_its_topic(words("why did this invite fail?"), is_name, few)  # points


def test_this_before_a_time_is_a_date_not_something_on_the_screen() -> None:
    assert not points(words("compare this month with last year"), is_name)
    assert points(words("compare this with last year"), is_name)


def test_this_before_the_product_names_the_product_not_something_on_the_screen() -> None:
    assert not points(words("where do I begin with this app?"), is_name)
    assert not points(words("how do I invite my colleague to this thing"), is_name)
    assert points(words("where do I begin with this?"), is_name)
