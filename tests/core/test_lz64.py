"""lz64 (lz-string base64): the same text as the reference library, and a bound on inflation."""

from __future__ import annotations

import contextlib
import functools
from urllib.parse import urlencode

import lzstring
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usertrail.core.decode import decode_body
from usertrail.core.lz64 import decompress_base64, to_text
from usertrail.errors import BadPayload, PayloadTooLarge

LZ = lzstring.LZString()


def js_compress(text: str) -> str:
    """What posthog-js sends: lz-string works on UTF-16 code units, so a character outside
    the BMP goes in as its two surrogates."""
    units = text.encode("utf-16-le", "surrogatepass")
    code_units = "".join(
        chr(int.from_bytes(units[i : i + 2], "little")) for i in range(0, len(units), 2)
    )
    packed: str = LZ.compressToBase64(code_units)
    return packed


@settings(max_examples=300)
@given(st.text(max_size=400))
def test_inflates_what_lz_string_compressed(text: str) -> None:
    assert to_text(decompress_base64(js_compress(text), 10_000)) == text


def test_an_emoji_in_an_lz64_body_survives_as_one_character() -> None:
    event = {"event": "rated", "distinct_id": "d", "properties": {"mood": "😀"}}
    body = urlencode({"data": js_compress(orjson.dumps(event).decode())}).encode()
    decoded = decode_body(
        body, content_type="application/x-www-form-urlencoded", compression="lz64"
    )
    assert decoded == event


@functools.cache
def bomb() -> str:
    """A few KB that name 3 M characters (lz-string's dictionary grows a character a code)."""
    packed: str = LZ.compressToBase64("[" * 3_000_000)
    assert len(packed) < 10_000
    return packed


def test_an_lz64_bomb_stops_at_the_bound_without_inflating() -> None:
    with pytest.raises(PayloadTooLarge):
        decompress_base64(bomb(), 1_000_000)


def test_an_lz64_bomb_in_a_request_body_is_too_large() -> None:
    body = urlencode({"data": bomb()}).encode()
    with pytest.raises(PayloadTooLarge):
        decode_body(
            body,
            content_type="application/x-www-form-urlencoded",
            compression="lz64",
            max_bytes=1_000_000,
        )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "not base64"),
        ("abc$", "not base64"),
        ("é", "not base64"),
        (LZ.compressToBase64("hello world, hello")[:-8], "truncated"),
        ("/////", "no first character"),
    ],
    ids=["empty", "outside-alphabet", "non-ascii", "truncated", "reserved-first-code"],
)
def test_text_that_is_not_lz_string_is_a_bad_payload(text: str, reason: str) -> None:
    with pytest.raises(BadPayload, match=reason):
        decompress_base64(text, 1_000)


def test_a_lone_surrogate_in_the_inflated_text_is_a_bad_payload() -> None:
    with pytest.raises(BadPayload, match="surrogate"):
        to_text(decompress_base64(LZ.compressToBase64("a\ud800b"), 100))


@settings(max_examples=300)
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="))
def test_any_base64_text_inflates_or_is_refused_with_our_errors(text: str) -> None:
    with contextlib.suppress(BadPayload, PayloadTooLarge):
        to_text(decompress_base64(text, 10_000))
