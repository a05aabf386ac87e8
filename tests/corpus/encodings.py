"""Mutation families on the bytes: compression, base64/lz64, JSON text, UTF-8, numbers, depth,
duplicate keys and sizes. Each returns a Draft; the family table says what must come back."""

from __future__ import annotations

import base64
import gzip
from random import Random
from typing import Any
from urllib.parse import urlencode

from tests.corpus.cases import Draft, draft, pick, raw_draft
from tests.corpus.shapes import (
    JSON_TRANSPORTS,
    SPLICE,
    Wire,
    base,
    build_gzip_bomb,
    build_lz64_bomb,
    dumps,
    form_data,
    splice,
)
from tests.live import TOKEN

FORM = {"content-type": "application/x-www-form-urlencoded"}
BOMB_PREFIX = (
    b'{"api_key": "' + TOKEN.encode() + b'", "batch": [{"event": "e", "distinct_id": "d", '
    b'"properties": {"x": "'
)


def event_of(rng: Random, events: list[dict[str, Any]]) -> dict[str, Any]:
    return pick(rng, events)  # type: ignore[no-any-return]


_KEEP = ("token", "$token", "$corpus")  # the credentials and the case marker stay as they are


def mark_string(rng: Random, event: dict[str, Any], *, ids: bool = True) -> None:
    """Put the splice marker where a string goes: a name, an id, a property key or value.
    `ids=False`: never the distinct id (for text the id rule refuses: tests/corpus/ids.py)."""
    props = event["properties"]
    where = rng.randrange(5)
    if where == 1 and not ids:
        where = 0
    if where == 0:
        event["event"] = SPLICE
    elif where == 1:
        _drop_ids(event)
        event["distinct_id"] = SPLICE
    elif where == 2:
        props[SPLICE] = "value"
    elif where == 3:
        props["nested"] = {"list": [1, SPLICE]}
    else:
        keys = [k for k, v in props.items() if isinstance(v, str) and k not in _KEEP]
        props[pick(rng, keys or ["s"])] = SPLICE


def mark_value(rng: Random, event: dict[str, Any]) -> None:
    """Put the splice marker where any JSON value goes, inside the properties."""
    props = event["properties"]
    if rng.random() < 0.5:
        props[f"v{rng.randrange(100)}"] = SPLICE
    else:
        props["nested"] = {"a": [None, {"b": SPLICE}]}


def _drop_ids(event: dict[str, Any]) -> None:
    for key in ("distinct_id", "$distinct_id"):
        event.pop(key, None)
        event["properties"].pop(key, None)


def spliced(
    rng: Random, cid: str, raw: bytes, *, string: bool = True, plain: bool = False, ids: bool = True
) -> Draft:
    """`plain`: plain JSON only (megabyte strings need no compression to make the point)."""
    b = base(rng, cid, transports=("json",) if plain else JSON_TRANSPORTS)
    if string:
        mark_string(rng, event_of(rng, b.events), ids=ids)
    else:
        mark_value(rng, event_of(rng, b.events))
    return draft(b, splice(b.payload, raw))


# -- compression -----------------------------------------------------------------------------


def gzip_truncated(rng: Random, cid: str) -> Draft:
    b = base(rng, cid)
    packed = gzip.compress(dumps(b.payload))
    return raw_draft(b, packed[: rng.randrange(1, len(packed))], {"content-type": "text/plain"})


def gzip_corrupted(rng: Random, cid: str) -> Draft:
    b = base(rng, cid)
    packed = bytearray(gzip.compress(dumps(b.payload)))
    # Past the 10-byte header, and not the last deflate byte (its spare bits are ignored).
    for _ in range(rng.randint(1, 3)):
        at = pick(rng, [*range(10, len(packed) - 9), *range(len(packed) - 8, len(packed))])
        packed[at] ^= rng.randint(1, 255)
    return raw_draft(b, bytes(packed), {"content-type": "text/plain"})


def gzip_bomb(rng: Random, cid: str) -> Draft:
    body = build_gzip_bomb(BOMB_PREFIX, pick(rng, [21, 64, 256]))
    headers = pick(rng, [{"content-type": "text/plain"}, {"content-encoding": "gzip"}])
    return Draft(Wire("POST", pick(rng, ["/e/", "/batch/", "/i/v0/e/"]), body, headers, {}))


def gzip_nested(rng: Random, cid: str) -> Draft:
    b = base(rng, cid)
    return raw_draft(b, gzip.compress(gzip.compress(dumps(b.payload))), {})


def gzip_label_on_plain(rng: Random, cid: str) -> Draft:
    b = base(rng, cid)
    return raw_draft(b, dumps(b.payload), {"content-encoding": pick(rng, ["gzip", "x-gzip"])})


# -- base64 and lz64 ----------------------------------------------------------------------------


def base64_invalid_chars(rng: Random, cid: str) -> Draft:
    b = base(rng, cid)
    data = base64.b64encode(dumps(b.payload)).decode()
    at = rng.randrange(1, len(data) - 1)
    data = data[:at] + pick(rng, list("!@#$%^&*~ .,;:\"'")) + data[at:]
    return _base64_sent(rng, b, data)


def base64_truncated(rng: Random, cid: str) -> Draft:
    b = base(rng, cid)
    data = base64.b64encode(dumps(b.payload)).decode()
    return _base64_sent(rng, b, data[: rng.randrange(1, len(data) - 4)])


def _base64_sent(rng: Random, b: Any, data: str) -> Draft:
    """As posthog-js's beacon form, or as a raw body with the `?compression=base64` hint."""
    if rng.random() < 0.5:
        body = urlencode({"data": data, "compression": "base64"}).encode()
        return raw_draft(b, body, FORM)
    b.query["compression"] = "base64"
    return raw_draft(b, data.encode(), {"content-type": "text/plain"})


def lz64_invalid(rng: Random, cid: str) -> Draft:
    b = base(rng, cid)
    b.events[1:] = []  # one event (the same list the payload holds): lz-string is slow
    packed, _ = form_data(dumps(b.payload), "lz64")
    how = rng.randrange(3)
    if how == 0:
        at = rng.randrange(1, len(packed) - 1)
        packed = packed[:at] + pick(rng, list("!-_.é~")) + packed[at:]
    elif how == 1:
        packed = packed[: -rng.randint(8, len(packed) - 1)]
    else:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        packed = "".join(rng.choice(alphabet) for _ in range(rng.randint(4, 400)))
    return raw_draft(b, urlencode({"data": packed, "compression": "lz64"}).encode(), FORM)


def lz64_bomb(rng: Random, cid: str) -> Draft:
    body = urlencode({"data": build_lz64_bomb(25_000_000), "compression": "lz64"}).encode()
    return Draft(Wire("POST", pick(rng, ["/e/", "/i/v0/e/"]), body, FORM, {}))


# -- JSON text ----------------------------------------------------------------------------------


def json_truncated(rng: Random, cid: str) -> Draft:
    b = base(rng, cid)
    text = dumps(b.payload)
    return draft(b, text[: rng.randrange(1, len(text) - 1)])


def json_byte_flips(rng: Random, cid: str) -> Draft:
    b = base(rng, cid)
    text = bytearray(dumps(b.payload))
    for _ in range(rng.randint(1, 3)):
        text[rng.randrange(len(text))] = rng.randrange(256)
    return draft(b, bytes(text))


BAD_UTF8 = [
    b"\xff",
    b"\xfe\xff",
    b"\xc3",
    b"\xc0\xaf",
    b"\xe0\x80\xaf",
    b"\xf5\x80\x80\x80",
    b"\x80",
]


def invalid_utf8(rng: Random, cid: str) -> Draft:
    return spliced(rng, cid, b'"a' + pick(rng, BAD_UTF8) + b'b"')


def raw_surrogate_bytes(rng: Random, cid: str) -> Draft:
    return spliced(rng, cid, b'"a' + pick(rng, [b"\xed\xa0\x80", b"\xed\xbf\xbf"]) + b'b"')


def raw_control_chars(rng: Random, cid: str) -> Draft:
    return spliced(rng, cid, b'"a' + bytes([rng.randrange(32)]) + b'b"')


def escaped_nul(rng: Random, cid: str) -> Draft:
    raw = pick(rng, [b'"a\\u0000b"', b'"\\u0000x"', b'"x\\u001f\\u0000"'])
    return spliced(rng, cid, raw, ids=False)  # in an id: tests/corpus/ids.py


def lone_surrogate_escape(rng: Random, cid: str) -> Draft:
    raw = pick(rng, [b'"a\\ud800b"', b'"\\udfff"', b'"\\ud800\\u0041"', b'"\\udc00\\ud800"'])
    return spliced(rng, cid, raw)


def surrogate_pair_escape(rng: Random, cid: str) -> Draft:
    return spliced(rng, cid, pick(rng, [b'"\\ud83d\\ude00"', b'"ok \\ud834\\udd1e"']))


# -- numbers and depth --------------------------------------------------------------------------


def huge_integer(rng: Random, cid: str) -> Draft:
    digits = rng.choice(["5000", "400", "6000", str(rng.randint(400, 6000))])
    number = rng.choice(["", "-"]).encode() + b"9" * int(digits)
    raw = pick(rng, [number, b"1" + b"0" * 5000, b"1e400", b"-1e999", number + b".5"])
    return spliced(rng, cid, raw, string=False)


def wide_integer(rng: Random, cid: str) -> Draft:
    raw = pick(rng, [b"9" * rng.randint(20, 300), str(2**64 - 1).encode(), str(-(2**63)).encode()])
    return spliced(rng, cid, raw, string=False)


def long_fraction(rng: Random, cid: str) -> Draft:
    digits = b"7" * rng.randint(100, 5000)
    raw = pick(rng, [b"0." + b"0" * 5000 + b"1", b"1." + digits, b"-0." + digits, b"1e-400"])
    return spliced(rng, cid, raw, string=False)


def nested(depth: int, rng: Random) -> bytes:
    if rng.random() < 0.5:
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def deep_nesting(rng: Random, cid: str) -> Draft:
    depth = pick(rng, [10_000, 1025, 12_000, rng.randint(1100, 12_000)])
    return spliced(rng, cid, nested(depth, rng), string=False)


def nesting_past_storable(rng: Random, cid: str) -> Draft:
    return spliced(rng, cid, nested(rng.randint(300, 1000), rng), string=False)


def nesting_within_limits(rng: Random, cid: str) -> Draft:
    return spliced(rng, cid, nested(rng.randint(1, 200), rng), string=False)


# -- duplicate keys and sizes -------------------------------------------------------------------

SHADOWED = "shadowed-by-a-later-key"  # never stored: a later duplicate key wins
PAIR = "__corpus_pair__"


def _with_pair(rng: Random, cid: str, pair: bytes, *, first: bool) -> Draft:
    b = base(rng, cid)
    event = event_of(rng, b.events)
    items = list(event.items())
    event.clear()
    event.update([(PAIR, 0), *items] if first else [*items, (PAIR, 0)])
    return draft(b, dumps(b.payload).replace(dumps(PAIR) + b":0", pair))


def duplicate_keys(rng: Random, cid: str) -> Draft:
    pair = pick(rng, [f'"event":"{SHADOWED}"', '"properties":[]', '"uuid":5', '"event":null'])
    return _with_pair(rng, cid, pair.encode(), first=True)


def duplicate_keys_last_wrong(rng: Random, cid: str) -> Draft:
    pair = pick(rng, ['"event":5', '"properties":[]', '"event":""', '"properties":"x"'])
    return _with_pair(rng, cid, pair.encode(), first=False)


def huge_string(rng: Random, cid: str) -> Draft:
    size = rng.randint(1_050_000, 3_000_000)
    return spliced(rng, cid, b'"' + b"x" * size + b'"', plain=True, ids=False)


def big_string(rng: Random, cid: str) -> Draft:
    text = b'"' + b"y" * rng.randint(10_000, 900_000) + b'"'
    return spliced(rng, cid, text, plain=True, ids=False)


def oversize_body(rng: Random, cid: str) -> Draft:
    body = b"[" + b"0," * (11 * 1024 * 1024) + b"0]"
    return Draft(Wire("POST", pick(rng, ["/e/", "/batch/"]), body, {}, {}))
