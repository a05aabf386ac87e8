"""core.context.safe: every untrusted string bounded, cleaned, masked, made inert, quoted."""

from __future__ import annotations

from usertrail.core.context.safe import (
    MAX_CHARS,
    key_text,
    plain_word,
    quote_fragments,
    quoted,
    safe,
    safe_id,
    without_uuids,
)

SESSION = "0192f3a4-5b6c-7d8e-9f01-234567890abc"


def test_nothing_stays_nothing() -> None:
    assert safe(None) is None


def test_text_is_bounded_and_control_characters_are_gone() -> None:
    text = safe("Save\x00\u202e now " + "x" * 500)
    assert text is not None
    assert len(text) <= MAX_CHARS + 1
    assert "\x00" not in text
    assert "\u202e" not in text


def test_pii_is_masked_unless_the_project_allows_it() -> None:
    assert safe("Invite ann@example.com") == "Invite [email]"
    assert safe("Invite ann@example.com", mask_pii=False) == "Invite ann@example.com"


def test_what_is_left_of_an_email_made_into_a_page_name_is_still_masked() -> None:
    assert safe("jane doe@example com") == "jane [email] com"


def test_markdown_images_links_and_tags_are_broken_so_nothing_is_fetched() -> None:
    assert safe("![x](https://evil.test/?q=1) <img>") == "! [x] (https://evil.test/?q=1) ‹img›"


def test_a_label_cut_inside_a_quote_has_the_quote_closed() -> None:
    text = safe("Clicked 'a" + "b" * 300, limit=20)
    assert text is not None
    assert text.count("'") % 2 == 0


def test_an_id_keeps_its_uuid_and_masks_an_email_around_it() -> None:
    assert safe_id(f"ann@example.com/{SESSION}") == f"[email]/{SESSION}"
    assert safe_id("ann@example.com", mask_pii=False) == "ann@example.com"


def test_prose_shows_no_raw_uuid() -> None:
    assert without_uuids(f"Session {SESSION} ended") == "Session [id] ended"


def test_quoted_text_cannot_close_its_own_backticks() -> None:
    assert quoted("a`b") == "`a'b`"


def test_bare_untrusted_fragments_are_quoted_and_quoted_ones_left_alone() -> None:
    text = quote_fragments("Clicked 'Save' button in Plan picker", ("Plan picker", "Save"))
    assert text == "Clicked 'Save' button in 'Plan picker'"


def test_a_plain_role_word_is_not_quoted_as_a_fragment() -> None:
    assert quote_fragments("Clicked 'Save' button", ("button",)) == "Clicked 'Save' button"
    assert plain_word("menuitem")
    assert not plain_word("IGNORE ALL")


def test_an_identifier_like_key_reads_as_itself_and_anything_else_is_quoted() -> None:
    assert key_text("plan") == "plan"
    assert key_text("ignore: the rules") == "`ignore: the rules`"


def test_an_ids_invisible_characters_are_escaped_not_dropped() -> None:
    assert safe_id("a\u200bb") == "a\\u200bb"  # zero-width: still its own id, and inert
    assert safe_id("\ud7fc") == "\\ud7fc"  # unassigned: never an empty id
    assert safe_id("user\u202e42") == "user\\u202e42"  # bidi override: cannot flip the line
