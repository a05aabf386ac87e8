from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usertrail.core.elements_chain import (
    MAX_ELEMENTS,
    MAX_VALUE_CHARS,
    elements_from_array,
    parse_elements_chain,
)
from usertrail.model.event import Element

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


POSTHOG_JS = (
    'button.btn.hover:bg-blue-500:attr__class="btn hover:bg-blue-500"attr__data-attr="upgrade"'
    'nth-child="2"nth-of-type="1"text="Upgrade to Pro";'
    'div.plan-card:attr__class="plan-card"attr__data-ph-component="plan-picker"'
    'nth-child="1"nth-of-type="1";'
    'body:nth-child="2"nth-of-type="1"'
)


def test_posthog_js_chain_reads_every_element_in_order() -> None:
    chain = parse_elements_chain(POSTHOG_JS)
    assert [el.tag for el in chain] == ["button", "div", "body"]
    assert chain[0].attributes == {"class": "btn hover:bg-blue-500", "data-attr": "upgrade"}
    assert chain[1].attributes["data-ph-component"] == "plan-picker"


def test_shadcn_data_variant_classes_with_equals_signs_stay_classes() -> None:
    chain = parse_elements_chain(
        'button.data-[state=open]:bg-accent.inline-flex:nth-child="1"text="Menu"'
    )
    assert chain[0].classes == ("data-[state=open]:bg-accent", "inline-flex")
    assert chain[0].text == "Menu"


def test_whitespace_outside_quotes_separates_elements_as_in_posthog() -> None:
    assert [el.tag for el in parse_elements_chain('span:text="a b" div')] == ["span", "div"]


def test_href_and_nth_positions_are_promoted_to_fields() -> None:
    link = parse_elements_chain('a:href="/docs?x=1"nth-child="3"nth-of-type="2"text="Docs"')[0]
    assert (link.href, link.nth_child, link.nth_of_type, link.text) == ("/docs?x=1", 3, 2, "Docs")


def test_non_numeric_positions_are_ignored() -> None:
    assert parse_elements_chain('li:nth-child="x"')[0].nth_child is None


def test_an_unclosed_quote_keeps_what_was_read_before_it() -> None:
    chain = parse_elements_chain('button:attr__data-attr="save"text="Save;div')
    assert len(chain) == 1
    assert chain[0].attributes == {"data-attr": "save"}
    assert chain[0].text is None


def test_chain_size_is_bounded() -> None:
    chain = parse_elements_chain(";".join(["div"] * 500))
    assert len(chain) == MAX_ELEMENTS


def test_long_values_are_truncated() -> None:
    chain = parse_elements_chain('p:text="' + "x" * 5000 + '"')
    assert chain[0].text == "x" * MAX_VALUE_CHARS


@pytest.mark.parametrize(
    "chain",
    [
        "div:a=" + "a" * 60_000,
        'div:x="' + '\\"' * 30_000,
        'a:b="' * 12_000,
        "div" + ":" * 60_000,
    ],
    ids=["no-quotes", "escaped-quotes", "unclosed-values", "colons"],
)
def test_malformed_chains_parse_in_linear_time(chain: str) -> None:
    started = time.perf_counter()
    parse_elements_chain(chain)
    assert time.perf_counter() - started < 0.5


_CLASS = st.from_regex(r"[a-z][a-z0-9:\[\]-]{0,12}", fullmatch=True)
_VALUE = st.text(
    alphabet=st.characters(exclude_characters="\\", exclude_categories=["Cs"]), max_size=30
)


@st.composite
def elements(draw: st.DrawFn) -> Element:
    return Element(
        tag=draw(st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)),
        text=draw(st.none() | _VALUE.filter(bool)),
        classes=tuple(sorted(set(draw(st.lists(_CLASS, max_size=4))))),
        href=draw(st.none() | _VALUE.filter(bool)),
        attr_id=draw(st.none() | _VALUE.filter(bool)),
        nth_child=draw(st.integers(0, 99)),
        nth_of_type=draw(st.integers(0, 99)),
        attributes=draw(
            st.dictionaries(st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True), _VALUE)
        ),
    )


def posthog_js_string(chain: list[Element]) -> str:
    """posthog-js `elementsToString`: sorted classes, sorted `key="value"` pairs, `"` escaped."""

    def one(el: Element) -> str:
        attributes = {
            **({"text": el.text} if el.text else {}),
            "nth-child": str(el.nth_child),
            "nth-of-type": str(el.nth_of_type),
            **({"href": el.href} if el.href else {}),
            **({"attr_id": el.attr_id} if el.attr_id else {}),
            **{f"attr__{k}": v for k, v in el.attributes.items()},
        }
        pairs = "".join(
            f'{k}="{v.replace(chr(34), chr(92) + chr(34))}"' for k, v in sorted(attributes.items())
        )
        return el.tag + "".join(f".{c}" for c in el.classes) + ":" + pairs

    return ";".join(one(el) for el in chain)


@settings(max_examples=300)
@given(st.lists(elements(), min_size=1, max_size=6))
def test_posthog_js_strings_round_trip(chain: list[Element]) -> None:
    assert parse_elements_chain(posthog_js_string(chain)) == tuple(chain)


@settings(max_examples=300)
@given(
    st.lists(
        st.sampled_from(
            ['"', "\\", ";", ":", "=", ".", " ", "text", 'text="', "attr__", "nth-child=", "a", "é"]
        )
    ).map("".join)
)
def test_parser_never_raises_on_chain_like_fragments(chain: str) -> None:
    for el in parse_elements_chain(chain):
        assert len(el.text or "") <= MAX_VALUE_CHARS


def test_array_elements_without_a_tag_keep_their_place_in_the_chain() -> None:
    chain = elements_from_array([{"$el_text": "Save"}, {"tag_name": "form", "nth_child": "2"}])
    assert [(el.tag, el.text, el.nth_child) for el in chain] == [
        ("", "Save", None),
        ("form", None, 2),
    ]


@settings(max_examples=300)
@given(st.text(st.characters(exclude_categories=()), max_size=200))
def test_parser_never_raises_on_lone_surrogates_nul_and_control_characters(chain: str) -> None:
    for el in parse_elements_chain(chain):
        assert len(el.text or "") <= MAX_VALUE_CHARS


_ARRAY_KEYS = ("tag_name", "$el_text", "text", "attr__class", "attr_class", "classes", "attr_id",
               "href", "nth_child", "nth_of_type", "attr__id", "attr__href", "attr__x")  # fmt: skip
_ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=15,
)


@settings(max_examples=300)
@given(
    st.lists(
        _ANY_JSON | st.dictionaries(st.sampled_from(_ARRAY_KEYS), _ANY_JSON, max_size=6), max_size=5
    )
)
def test_array_form_never_raises_on_any_json(elements: list[object]) -> None:
    """`$elements` comes straight from the client: any JSON may sit where an element should."""
    assert len(elements_from_array(elements)) <= MAX_ELEMENTS
