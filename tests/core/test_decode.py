from __future__ import annotations

import base64
import gzip
from urllib.parse import urlencode

import lzstring
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usertrail.core.decode import decode_body
from usertrail.errors import BadPayload, PayloadTooLarge, UsertrailError

EVENT = {"event": "$pageview", "properties": {"token": "phc_x", "distinct_id": "a"}}
RAW = orjson.dumps(EVENT)


def test_plain_json_is_decoded() -> None:
    assert decode_body(RAW, content_type="application/json") == EVENT


def test_gzip_is_detected_by_magic_bytes_whatever_the_content_type_says() -> None:
    assert decode_body(gzip.compress(RAW), content_type="text/plain") == EVENT


def test_gzip_is_detected_even_when_the_compression_hint_says_base64() -> None:
    assert decode_body(gzip.compress(RAW), compression="base64") == EVENT


def test_form_encoded_base64_data_field_is_decoded() -> None:
    body = urlencode({"data": base64.b64encode(RAW).decode(), "compression": "base64"}).encode()
    assert decode_body(body, content_type="application/x-www-form-urlencoded") == EVENT


def test_form_encoded_lz64_data_field_is_decoded() -> None:
    packed = lzstring.LZString().compressToBase64(RAW.decode())
    body = urlencode({"data": packed}).encode()
    decoded = decode_body(
        body, content_type="application/x-www-form-urlencoded", compression="lz64"
    )
    assert decoded == EVENT


def test_base64_body_with_compression_query_hint_is_decoded() -> None:
    assert decode_body(base64.b64encode(RAW), compression="base64") == EVENT


def test_gzip_bomb_is_refused_as_too_large_without_inflating_it() -> None:
    bomb = gzip.compress(b"[" + b" " * (30 * 1024 * 1024) + b"]")
    with pytest.raises(PayloadTooLarge):
        decode_body(bomb, max_bytes=20 * 1024 * 1024)


def test_truncated_gzip_is_a_bad_payload() -> None:
    with pytest.raises(BadPayload, match="gzip"):
        decode_body(gzip.compress(RAW)[:-12])


@pytest.mark.parametrize(
    "body",
    [b"", b"{not json", b'{"a": "\\ud800"}', b"[" * 5000 + b"]" * 5000, b"1" * 5000],
    ids=["empty", "syntax", "lone-surrogate", "deep-nesting", "huge-number"],
)
def test_undecodable_bodies_are_bad_payloads(body: bytes) -> None:
    with pytest.raises(BadPayload):
        decode_body(body)


def test_invalid_base64_is_a_bad_payload() -> None:
    with pytest.raises(BadPayload, match="base64"):
        decode_body(b"%%%not-base64%%%", compression="base64")


def test_invalid_lz64_is_a_bad_payload() -> None:
    with pytest.raises(BadPayload, match="lz64"):
        decode_body(b"!!!!", compression="lz64")


CONTENT_TYPES = st.sampled_from(
    ["", "application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/x"]
) | st.text(max_size=40)
ENCODINGS = st.sampled_from(["", "gzip", "GZIP", "deflate", "br", "gzip, gzip"]) | st.text(
    max_size=20
)
HINTS = st.sampled_from(["", "base64", "b64", "lz64", "gzip-js", "gzip", "LZ64"]) | st.text(
    max_size=10
)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """Arbitrary bytes, and bytes dressed the ways SDKs dress them (gzip, base64, form)."""
    raw = draw(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
    dress = draw(st.sampled_from(["raw", "gzip", "cut-gzip", "b64", "form", "form-b64"]))
    if dress == "gzip":
        return gzip.compress(raw)
    if dress == "cut-gzip":
        packed = gzip.compress(raw)
        return packed[: draw(st.integers(0, len(packed)))]
    if dress == "b64":
        return base64.b64encode(raw)
    if dress.startswith("form"):
        data = base64.b64encode(raw).decode() if dress == "form-b64" else raw.decode("latin-1")
        hint = draw(HINTS)
        return urlencode({"data": data, "compression": hint}).encode()
    return raw


@settings(max_examples=300)
@given(bodies(), CONTENT_TYPES, ENCODINGS, HINTS)
def test_any_body_decodes_or_raises_only_our_payload_errors(
    body: bytes, content_type: str, content_encoding: str, compression: str
) -> None:
    try:
        decode_body(
            body,
            content_type=content_type,
            content_encoding=content_encoding,
            compression=compression,
            max_bytes=64 * 1024,
        )
    except (BadPayload, PayloadTooLarge) as exc:
        refused: UsertrailError | None = exc
    else:
        refused = None
    assert refused is None or refused.detail  # every refusal says why


ANY_CHAR = st.characters(exclude_categories=())  # surrogates and NUL included


@settings(max_examples=300)
@given(st.text(ANY_CHAR, max_size=50), st.sampled_from(["raw", "escaped"]))
def test_strings_with_any_character_are_kept_or_refused_as_bad_payloads(
    text: str, how: str
) -> None:
    if how == "escaped":
        literal = "".join(f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else c for c in text)
    else:
        literal = text.replace("\\", "\\\\").replace('"', '\\"')
    body = ('{"event": "e", "properties": {"s": "' + literal + '"}}').encode(
        "utf-8", "surrogatepass"
    )
    try:
        decoded = decode_body(body)
    except BadPayload:
        return
    assert decoded["properties"]["s"] == text
