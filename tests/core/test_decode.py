from __future__ import annotations

import base64
import gzip
from urllib.parse import urlencode

import lzstring
import orjson
import pytest

from usertrail.core.decode import decode_body
from usertrail.errors import BadPayload, PayloadTooLarge

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
