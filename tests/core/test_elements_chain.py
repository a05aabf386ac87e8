from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from usertrail.core.elements_chain import elements_from_array, parse_elements_chain

TAILWIND = (
    'button.btn.hover:bg-blue-500.md:px-4:text="Upgrade to Pro"nth-child="2"nth-of-type="1"'
    'attr__data-attr="upgrade"attr__class="btn hover:bg-blue-500 md:px-4";'
    'div.plan-card:attr__data-ph-component="plan-picker"nth-child="1"nth-of-type="1";'
    'body:nth-child="2"nth-of-type="1"'
)


def test_clicked_element_comes_first_with_its_text_and_positions() -> None:
    button = parse_elements_chain(TAILWIND)[0]
    assert (button.tag, button.text, button.nth_child, button.nth_of_type) == (
        "button",
        "Upgrade to Pro",
        2,
        1,
    )


def test_tailwind_classes_with_colons_stay_classes() -> None:
    assert parse_elements_chain(TAILWIND)[0].classes == ("btn", "hover:bg-blue-500", "md:px-4")


def test_attr_prefixed_attributes_are_kept_without_the_prefix() -> None:
    chain = parse_elements_chain(TAILWIND)
    assert chain[0].attributes["data-attr"] == "upgrade"
    assert chain[1].attributes == {"data-ph-component": "plan-picker"}


def test_semicolons_and_escaped_quotes_inside_values_do_not_split_elements() -> None:
    chain = parse_elements_chain('a:text="Save; then \\"close\\""href="/x?a=1;b=2";div')
    assert [el.tag for el in chain] == ["a", "div"]
    assert chain[0].text == 'Save; then "close"'
    assert chain[0].href == "/x?a=1;b=2"


def test_attr_id_is_read() -> None:
    assert parse_elements_chain('section:attr_id="plans"')[0].attr_id == "plans"


def test_older_elements_array_form_is_read() -> None:
    chain = elements_from_array(
        [
            {
                "tag_name": "button",
                "$el_text": "Export",
                "attr__class": "btn primary",
                "nth_child": 1,
            },
            {"tag_name": "div", "attr__id": "toolbar"},
        ]
    )
    assert chain[0].text == "Export"
    assert chain[0].classes == ("btn", "primary")
    assert chain[1].attr_id == "toolbar"


@settings(max_examples=300)
@given(st.text())
def test_parser_never_raises_on_any_string(chain: str) -> None:
    parse_elements_chain(chain)


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(
            st.from_regex(r"[a-z]{1,6}", fullmatch=True),
            st.text(alphabet=st.characters(blacklist_characters='"\\'), max_size=20),
        ),
        max_size=8,
    )
)
def test_generated_chains_round_trip_their_text(parts: list[tuple[str, str]]) -> None:
    chain = ";".join(f'{tag}:text="{text}"' for tag, text in parts)
    parsed = parse_elements_chain(chain)
    assert [el.tag for el in parsed] == [tag for tag, _ in parts]
    assert [el.text or "" for el in parsed] == [text for _, text in parts]


@given(
    st.lists(
        st.dictionaries(
            st.text(max_size=8), st.one_of(st.none(), st.text(max_size=8), st.integers())
        ),
        max_size=5,
    )
)
def test_array_form_never_raises(elements: list[dict[str, object]]) -> None:
    elements_from_array(elements)
