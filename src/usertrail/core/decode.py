"""Turn a capture request body into JSON, whatever encoding the PostHog SDKs chose.

posthog-js sends gzip as `text/plain` to `/e/` (`compression=gzip-js`), older versions send a
form-encoded `data=` field holding base64 or lz-string base64 (`compression=base64|lz64`), and
posthog-python sends JSON, optionally with `Content-Encoding: gzip`. Like PostHog's own capture
service we trust the bytes over the hints: gzip is recognised by its magic number.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

import orjson

from usertrail.core.lz64 import decompress_base64, to_text
from usertrail.errors import BadPayload, PayloadTooLarge

GZIP_MAGIC = b"\x1f\x8b"
MAX_DECOMPRESSED_BYTES = 20 * 1024 * 1024  # PostHog's batch limit
JSON_INT_MIN, JSON_INT_MAX = -(2**63), 2**64 - 1  # orjson's range: past it, a float


def decode_body(
    body: bytes,
    *,
    content_type: str = "",
    content_encoding: str = "",
    compression: str = "",
    max_bytes: int = MAX_DECOMPRESSED_BYTES,
) -> Any:
    """Decode `body` to a JSON value; raise BadPayload / PayloadTooLarge with the reason."""
    if not body:
        raise BadPayload("empty request body")
    hint = compression.lower()
    if "x-www-form-urlencoded" in content_type.lower() and not body.startswith(GZIP_MAGIC):
        body, hint = _unwrap_form(body, hint)
    if body.startswith(GZIP_MAGIC) or "gzip" in content_encoding.lower():
        body = gunzip(body, max_bytes)
    elif hint in ("base64", "b64"):
        body = _b64decode(body)
    elif hint == "lz64":
        body = _lz64decode(body, max_bytes)
    elif len(body) > max_bytes:
        raise PayloadTooLarge(f"body is {len(body)} bytes; the limit is {max_bytes}")
    return parse_json(body)


def gunzip(data: bytes, max_bytes: int) -> bytes:
    """Inflate gzip without ever holding more than `max_bytes`: a gzip bomb is a 413."""
    inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    try:
        out = inflater.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise BadPayload(f"invalid gzip body: {exc}") from exc
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"decompressed body exceeds {max_bytes} bytes")
    if not inflater.eof:
        raise BadPayload("truncated gzip body")
    return out


def parse_json(data: bytes | str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadPayload(f"invalid JSON: {exc}") from exc


def fits_json_int(value: int) -> bool:
    """What orjson (and msgpack) write as an integer, and so every store and reader holds."""
    return JSON_INT_MIN <= value <= JSON_INT_MAX


def json_safe(value: Any) -> Any:
    """`value` with every integer past 64 bits a float, as parse_json reads one from a capture
    body: for values decoded otherwise (msgspec keeps big ints) or built in code, so that they
    encode wherever a parsed body does. Past a float's range too, None (JSON's null for inf)."""
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and not fits_json_int(value):
        return _as_float(value)
    return value


def _as_float(value: int) -> float | None:
    try:
        return float(value)
    except OverflowError:
        return None


def _unwrap_form(body: bytes, hint: str) -> tuple[bytes, str]:
    """`data=<payload>&compression=<hint>` as posthog-js's sendBeacon/XHR fallback sends it."""
    try:
        fields = parse_qs(body.decode("ascii"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise BadPayload("form body is not ASCII url-encoded") from exc
    data = _first(fields, "data")
    if data is None:
        raise BadPayload("form body has no 'data' field")
    return data.encode("utf-8"), (_first(fields, "compression") or hint).lower()


def _first(fields: Mapping[str, list[str]], key: str) -> str | None:
    values = fields.get(key)
    return values[0] if values else None


def _b64decode(data: bytes) -> bytes:
    stripped = data.strip()
    padded = stripped + b"=" * (-len(stripped) % 4)
    try:
        return base64.b64decode(
            padded, altchars=b"-_" if b"-" in padded or b"_" in padded else None, validate=True
        )
    except (binascii.Error, ValueError) as exc:
        raise BadPayload(f"invalid base64 body: {exc}") from exc


def _lz64decode(data: bytes, max_bytes: int) -> bytes:
    try:
        packed = data.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise BadPayload("invalid lz64 body: not ASCII") from exc
    body = to_text(decompress_base64(packed, max_bytes)).encode("utf-8")
    if len(body) > max_bytes:
        raise PayloadTooLarge(f"decompressed body exceeds {max_bytes} bytes")
    return body
