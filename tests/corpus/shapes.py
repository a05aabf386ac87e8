"""What the corpus mutates: real SDK requests (tests/payloads), re-encoded the ways SDKs send.

Every base is a fresh copy of recorded posthog-js or posthog-python events, regrouped into
the shapes capture accepts (batch envelope, array, single event), each event with its own
uuid and a `$corpus` property naming its case, so no two cases ever deduplicate each other.
"""

from __future__ import annotations

import base64
import copy
import gzip
import json
import struct
import uuid
import zlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from random import Random
from typing import Any
from urllib.parse import parse_qsl, urlencode

import lzstring
import orjson

from tests.live import TOKEN
from usertrail.core.decode import decode_body

PAYLOADS = Path(__file__).parents[1] / "payloads"
SDK_PATHS = {
    "posthog_js": ("/e/", "/i/v0/e/", "/capture/", "/track/"),
    "posthog_python": ("/batch/", "/capture/", "/batch"),
}
TRANSPORTS = {
    "posthog_js": ("json", "text-gzip", "form-base64", "form-lz64", "get-base64"),
    "posthog_python": ("json", "gzip-header"),
}
JSON_TRANSPORTS = ("json", "text-gzip", "gzip-header", "form-base64")  # cheap to encode


@cache
def recorded_events() -> dict[str, tuple[dict[str, Any], ...]]:
    """sdk -> the events its recorded requests carried (decoded once)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(PAYLOADS.glob("*/*.bin")):
        meta = json.loads(path.with_suffix(".json").read_text())
        query = dict(parse_qsl(meta["query"]))
        body = decode_body(
            path.read_bytes(),
            content_type=meta["content_type"],
            content_encoding=meta["content_encoding"],
            compression=query.get("compression", ""),
        )
        found.setdefault(path.parent.name, []).extend(body["batch"])
    return {sdk: tuple(events) for sdk, events in found.items()}


@dataclass
class Base:
    """A valid request before mutation: `payload` is the JSON value the SDK would send."""

    sdk: str
    path: str
    payload: Any
    events: list[dict[str, Any]]  # the event objects inside `payload` (same references)
    uuids: list[str]
    transport: str = "json"
    query: dict[str, str] = field(default_factory=dict)


def base(rng: Random, case_id: str, *, transports: tuple[str, ...] = JSON_TRANSPORTS) -> Base:
    sdk = rng.choice(sorted(SDK_PATHS))
    pool = recorded_events()[sdk]
    events = [copy.deepcopy(rng.choice(pool)) for _ in range(rng.randint(1, 4))]
    uuids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in events]
    for i, (event, event_uuid) in enumerate(zip(events, uuids, strict=True)):
        event["uuid"] = event_uuid
        event.setdefault("properties", {})["$corpus"] = f"{case_id}/{i}"
    payload = _shape(rng, sdk, events)
    allowed = [t for t in TRANSPORTS[sdk] if t in transports] or ["json"]
    return Base(
        sdk=sdk,
        path=rng.choice(SDK_PATHS[sdk]),
        payload=payload,
        events=events,
        uuids=uuids,
        transport=rng.choice(allowed),
    )


def _shape(rng: Random, sdk: str, events: list[dict[str, Any]]) -> Any:
    """posthog-python always sends the envelope; posthog-js also sends arrays and single
    events, with the token in each event's properties."""
    shape = "envelope" if sdk == "posthog_python" else rng.choice(["envelope", "array", "single"])
    if shape == "envelope":
        return {"api_key": TOKEN, "batch": events, "sent_at": "2026-11-24T10:50:45.000Z"}
    for event in events:
        event["properties"]["token"] = TOKEN
    return events if shape == "array" or len(events) > 1 else events[0]


@dataclass(frozen=True)
class Wire:
    """One HTTP request."""

    method: str
    path: str
    body: bytes
    headers: dict[str, str]
    query: dict[str, str]


def encode(text: bytes, transport: str, path: str, query: dict[str, str] | None = None) -> Wire:
    """JSON text -> the request an SDK sends with that transport."""
    query = dict(query or {})
    if transport == "text-gzip":
        return Wire("POST", path, gzip.compress(text), {"content-type": "text/plain"}, query)
    if transport == "gzip-header":
        headers = {"content-type": "application/json", "content-encoding": "gzip"}
        return Wire("POST", path, gzip.compress(text), headers, query)
    if transport in ("form-base64", "form-lz64"):
        data, hint = form_data(text, transport.removeprefix("form-"))
        body = urlencode({"data": data, "compression": hint}).encode()
        return Wire(
            "POST", path, body, {"content-type": "application/x-www-form-urlencoded"}, query
        )
    if transport == "get-base64":
        return Wire("GET", path, b"", {}, {**query, "data": base64.b64encode(text).decode()})
    return Wire("POST", path, text, {"content-type": "application/json"}, query)


def form_data(text: bytes, hint: str) -> tuple[str, str]:
    if hint == "lz64":
        packed: str = lzstring.LZString().compressToBase64(text.decode("utf-8"))
        return packed, "lz64"
    return base64.b64encode(text).decode(), "base64"


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


# -- text surgery: what orjson cannot write (deep nesting, huge numbers, bad escapes) -------

SPLICE = "__corpus_splice__"


def splice(payload: Any, raw: bytes) -> bytes:
    """Serialize `payload`, whose one string SPLICE marks the spot, with `raw` JSON there."""
    text = dumps(payload)
    marker = dumps(SPLICE)
    assert text.count(marker) == 1, "exactly one splice marker"
    return text.replace(marker, raw)


# -- bombs ------------------------------------------------------------------------------------


@cache
def build_gzip_bomb(prefix: bytes, inflated_mb: int) -> bytes:
    """A valid gzip member that inflates to `prefix` + `inflated_mb` MiB of spaces.

    After a full flush deflate forgets its window, so one compressed MiB repeats verbatim:
    a GiB costs a quarter of a second to build instead of compressing a GiB."""
    chunk = b" " * (1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = deflate.compress(prefix) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    tail = deflate.flush(zlib.Z_FINISH)
    crc = zlib.crc32(prefix)
    for _ in range(inflated_mb):
        crc = zlib.crc32(chunk, crc)
    size = len(prefix) + inflated_mb * len(chunk)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + head + block * inflated_mb + tail + struct.pack("<II", crc, size & 0xFFFFFFFF)


@cache
def build_lz64_bomb(repeats: int) -> str:
    """lz-string base64 for one character repeated: every code names the entry being built
    (one character longer than the last), so ~7,000 codes inflate to ~25 M characters."""
    bits: list[str] = []

    def put(value: int, width: int) -> None:
        bits.append(format(value, f"0{width}b")[::-1])  # lz-string writes low bits first

    put(0, 2)
    put(ord("["), 8)
    size, num_bits, enlarge_in, out = 4, 3, 4, 1
    length = 1
    while out < repeats:
        put(size, num_bits)
        length += 1
        out += length
        size += 1
        enlarge_in -= 1
        if enlarge_in == 0:
            enlarge_in, num_bits = 1 << num_bits, num_bits + 1
    put(2, num_bits)
    stream = "".join(bits)
    stream += "0" * (-len(stream) % 6)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    return "".join(alphabet[int(stream[i : i + 6], 2)] for i in range(0, len(stream), 6))
