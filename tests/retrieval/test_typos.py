"""Typo tolerance: an unknown word is read as the nearest word the articles use."""

from __future__ import annotations

from usertrail.retrieval.lexicon import english_words
from usertrail.retrieval.typos import correction, edit_distance

VOCABULARY = {"permissions": 3, "password": 5, "invoice": 2, "export": 9, "exports": 4, "hand": 1}


def test_edit_distance_counts_a_swap_of_neighbours_once() -> None:
    assert edit_distance("recieve", "receive", 2) == 1
    assert edit_distance("export", "exprot", 2) == 1
    assert edit_distance("kitten", "sitting", 3) == 3
    assert edit_distance("a", "abcdef", 2) == 3  # beyond the limit: limit + 1


def test_a_misspelt_word_is_read_as_the_nearest_known_one() -> None:
    assert correction("permisions", VOCABULARY) == "permissions"
    assert correction("pasword", VOCABULARY) == "password"
    assert correction("invoce", VOCABULARY) == "invoice"


def test_between_equally_near_words_the_more_common_one_wins() -> None:
    assert correction("exportt", VOCABULARY) == "export"


def test_known_short_unrelated_and_numeric_words_are_left_alone() -> None:
    assert correction("export", VOCABULARY) is None  # known
    assert correction("kye", VOCABULARY) is None  # too short to guess
    assert (
        correction("land", VOCABULARY) is None
    )  # a real word: a short word keeps its first letter
    assert correction("e42x", VOCABULARY) is None
    assert correction("colleague", VOCABULARY) is None  # nothing near enough


def test_a_stop_word_is_never_a_correction() -> None:
    assert correction("andd", {"and": 100}) is None


def test_a_real_word_the_articles_do_not_use_is_never_corrected_into_one_they_do() -> None:
    vocabulary = {"pinned": 3, "care": 4}
    assert correction("binned", vocabulary, real_words=english_words()) is None
    assert correction("came", vocabulary, real_words=english_words()) is None
    assert correction("pinnned", vocabulary, real_words=english_words()) == "pinned"


def test_the_english_word_list_knows_words_and_not_their_misspellings() -> None:
    words = english_words()
    assert {"colleague", "intranet", "binned", "refund"} <= words
    assert not {"collegue", "pasword", "permision", "downlod"} & words
