"""Mutation families on the decoded structure: wrong types everywhere, tokens in every position,
lying headers, junk query parameters, empty bodies and the webhook destination."""

from __future__ import annotations

import copy
import uuid
from random import Random
from typing import Any

from tests.corpus.cases import Draft, draft, pick, raw_draft
from tests.corpus.shapes import JSON_TRANSPORTS, Base, Wire, base, dumps, encode
from tests.live import API_KEY, TOKEN, WEBHOOK_SECRET

NOT_JSON_OBJECTS = [0, -1, 1.5, "text", "", True, False, None, [], [1, 2], [None], [""], "{}"]
ANY_VALUE: list[Any] = [
    None, True, False, 0, -1, 2**64 - 1, -(2**63), 1.5, -1e308, 1e308, "", " ", "x" * 5000,
    "2026-13-45T99:99:99Z", "not a url", "javascript:alert(1)", "http://[::1", [], [None, 1, "a"],
    {}, {"a": {"b": [None]}}, [[[[]]]], "\u202e\u200b", "😀" * 10, {"$set": {"plan": []}},
]  # fmt: skip
EVENT_KEYS = ["uuid", "timestamp", "sent_at", "offset", "$set", "$set_once", "type"]
PROPERTY_KEYS = [
    "$session_id", "$window_id", "$current_url", "$pathname", "$host", "$elements_chain",
    "$elements", "$set", "$set_once", "$unset", "$anon_distinct_id", "$groups", "$exception_list",
    "$exception_message", "$event_type", "$screen_width", "$time", "$lib", "$browser", "$os",
    "$device_type", "$raw_user_agent", "$referrer", "title", "$el_text", "$user_id",
    "$process_person_profile", "$identified_id", "$exception_type", "failure_reason",
]  # fmt: skip
TOKEN_KEYS = ("api_key", "token", "$token")
ID_KEYS = ("distinct_id", "$distinct_id")
WRONG_TOKENS = [
    TOKEN.upper(), TOKEN[:-1], TOKEN + "x", " " + TOKEN, TOKEN + "\u200b", API_KEY, WEBHOOK_SECRET,
    "phc_unknown", "' OR 1=1 --", "phc_test_token_０１２３４５６７８９", "x" * 10_000, "null",
    "\u202ephc_test", "phc_test_token_0123456789\x00",
]  # fmt: skip


def one_event(rng: Random, b: Base) -> dict[str, Any]:
    return pick(rng, b.events)  # type: ignore[no-any-return]


# -- wrong types at every level ---------------------------------------------------------------


def wrong_type_body(rng: Random, cid: str) -> Draft:
    return draft(base(rng, cid), dumps(pick(rng, NOT_JSON_OBJECTS)))


def wrong_type_batch(rng: Random, cid: str) -> Draft:
    b = base(rng, cid)
    batch = pick(rng, [{}, "x", 5, None, True, [], {"0": b.events[0]}, dumps(b.events).decode()])
    return draft(b, dumps({"api_key": TOKEN, "batch": batch}))


def wrong_type_event(rng: Random, cid: str) -> Draft:
    b = base(rng, cid)
    events = list(b.events)
    events.insert(rng.randrange(len(events) + 1), pick(rng, [5, "x", None, [], [events[0]], True]))
    payload = {"api_key": TOKEN, "batch": events} if rng.random() < 0.5 else events
    return draft(b, dumps(payload))


def wrong_type_event_name(rng: Random, cid: str) -> Draft:
    b = base(rng, cid)
    event = one_event(rng, b)
    event.pop("event")
    if rng.random() < 0.8:
        event["event"] = pick(rng, ["", 5, None, [], {}, True, ["$pageview"], 0])
    return draft(b)


def wrong_type_properties(rng: Random, cid: str) -> Draft:
    b = base(rng, cid)
    one_event(rng, b)["properties"] = pick(rng, [[], "x", 5, True, [["a", 1]], "{}", 0.5])
    return draft(b)


def _drop_ids(event: dict[str, Any]) -> None:
    for key in ID_KEYS:
        event.pop(key, None)
        event["properties"].pop(key, None)


def _set_id(rng: Random, event: dict[str, Any], value: Any) -> None:
    _drop_ids(event)
    holder = event if rng.random() < 0.5 else event["properties"]
    holder[pick(rng, ID_KEYS)] = value


def wrong_type_distinct_id(rng: Random, cid: str) -> Draft:
    b = base(rng, cid)
    values = [None, True, False, [], ["u1"], {}, {"id": "u1"}, "", "   ", "\t\n"]
    _set_id(rng, one_event(rng, b), pick(rng, values))
    return draft(b)


def numeric_distinct_id(rng: Random, cid: str) -> Draft:
    b = base(rng, cid)
    for event in b.events:
        _set_id(rng, event, pick(rng, [0, 42, -7, 3.5, 1e300, 2**64 - 1, -(2**63)]))
    return draft(b)


def wrong_type_metadata(rng: Random, cid: str) -> Draft:
    b = base(rng, cid)
    for _ in range(rng.randint(1, 4)):
        event = one_event(rng, b)
        value = copy.deepcopy(pick(rng, ANY_VALUE))
        if rng.random() < 0.3:
            event[pick(rng, EVENT_KEYS)] = value
        else:
            event["properties"][pick(rng, PROPERTY_KEYS)] = value
    if isinstance(b.payload, dict) and "batch" in b.payload and rng.random() < 0.3:
        b.payload[pick(rng, ["sent_at", "historical_migration"])] = pick(rng, ANY_VALUE)
    return draft(b)


def property_values(rng: Random, cid: str) -> Draft:
    b = base(rng, cid)
    for _ in range(rng.randint(1, 5)):
        key = pick(rng, ["", "$", "a.b", "😀", "x" * 300, "\u202ekey", "__proto__", "constructor"])
        one_event(rng, b)["properties"][key + str(rng.randrange(9))] = _random_json(rng, 4)
    return draft(b)


def _random_json(rng: Random, depth: int) -> Any:
    if depth == 0 or rng.random() < 0.4:
        return copy.deepcopy(pick(rng, ANY_VALUE))
    if rng.random() < 0.5:
        return [_random_json(rng, depth - 1) for _ in range(rng.randint(0, 3))]
    return {str(rng.randrange(99)): _random_json(rng, depth - 1) for _ in range(rng.randint(0, 3))}


# -- tokens ---------------------------------------------------------------------------------------


def _strip_tokens(b: Base) -> None:
    holders = [b.payload] if isinstance(b.payload, dict) else []
    for holder in [*holders, *b.events, *(e["properties"] for e in b.events)]:
        for key in TOKEN_KEYS:
            holder.pop(key, None)


def _place(rng: Random, b: Base, value: Any) -> None:
    """One of every place PostHog looks for the token: envelope, event, properties, query."""
    event = one_event(rng, b)
    where = rng.randrange(4 if isinstance(b.payload, dict) and "batch" in b.payload else 3)
    if where == 0:
        event["properties"][pick(rng, ["token", "$token"])] = value
    elif where == 1:
        event[pick(rng, TOKEN_KEYS)] = value
    elif where == 2:
        # A URL stays short; a non-string in the query is the empty string.
        b.query[pick(rng, ["token", "api_key"])] = value[:200] if isinstance(value, str) else ""
    else:
        b.payload[pick(rng, TOKEN_KEYS)] = value


def wrong_token(rng: Random, cid: str) -> Draft:
    b = base(rng, cid)
    _strip_tokens(b)
    for _ in range(rng.randint(1, 3)):
        _place(rng, b, pick(rng, WRONG_TOKENS))
    return draft(b)


def wrong_type_token(rng: Random, cid: str) -> Draft:
    b = base(rng, cid)
    _strip_tokens(b)
    for _ in range(rng.randint(1, 3)):
        _place(rng, b, pick(rng, [5, [], {}, True, None, 1.5, [TOKEN], {"token": TOKEN}, ""]))
    return draft(b)


def missing_token(rng: Random, cid: str) -> Draft:
    b = base(rng, cid)
    _strip_tokens(b)
    return draft(b)


def wrong_token_shadowed(rng: Random, cid: str) -> Draft:
    b = base(rng, cid)
    b.query.update(token=pick(rng, WRONG_TOKENS[:8]), api_key="phc_wrong")
    return draft(b)


# -- headers, query, empty bodies --------------------------------------------------------------

LYING_TYPES = [
    "text/plain",
    "application/octet-stream",
    "",
    "application/json; charset=latin-1",
    "image/png",
    "multipart/form-data; boundary=x",
    "application/x-www-form-urlencoded",  # last: never for plain JSON
]


def content_type_lies(rng: Random, cid: str) -> Draft:
    b = base(rng, cid)
    wire = encode(dumps(b.payload), pick(rng, ["text-gzip", "gzip-header", "json"]), b.path)
    gzipped = wire.body[:2] == b"\x1f\x8b"
    types = LYING_TYPES if gzipped else LYING_TYPES[:-1]  # plain JSON never as a form
    query = {"compression": pick(rng, ["base64", "lz64", "gzip-js"])} if gzipped else {}
    headers = {**wire.headers, "content-type": pick(rng, types)}
    return Draft(Wire("POST", b.path, wire.body, headers, query), tuple(b.uuids), len(b.events))


def compression_hint_lies(rng: Random, cid: str) -> Draft:
    b = base(rng, cid)
    b.query["compression"] = pick(rng, ["base64", "b64", "lz64", "LZ64"])
    return draft(b, transport="json")


def empty_body(rng: Random, cid: str) -> Draft:
    b = base(rng, cid)
    b.events.clear()
    kind = rng.randrange(5)
    if kind == 0:
        return raw_draft(b, b"", {"content-type": pick(rng, LYING_TYPES)})
    if kind == 1:
        return raw_draft(b, b"", {}, method="GET")
    if kind == 2:
        b.query["data"] = ""
        return raw_draft(b, b"", {}, method="GET")
    form = {"content-type": "application/x-www-form-urlencoded"}
    return raw_draft(b, pick(rng, [b"data=", b"compression=base64", b"   "]), form)


def query_junk(rng: Random, cid: str) -> Draft:
    b = base(rng, cid)
    junk = ["abc", "1e400", "-1", "nan", "inf", "99999999999999999999999", "", "0x10", "😀"]
    b.query.update({"_": pick(rng, junk), "ver": pick(rng, junk), "ip": pick(rng, junk)})
    b.query[pick(rng, ["retry_count", "x", "compression"])] = pick(rng, ["gzip-js", "zstd", ""])
    return draft(b, transport=pick(rng, list(JSON_TRANSPORTS)))


# -- the webhook destination ----------------------------------------------------------------------


def _delivery(rng: Random, cid: str) -> dict[str, Any]:
    return {
        "event": {
            "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "event": "generation_failed",
            "distinct_id": f"user_{rng.randrange(50)}",
            "properties": {"failure_reason": "timeout", "$corpus": cid},
            "timestamp": "2026-11-24T10:00:00.000Z",
        },
        "person": {"id": "p-1", "properties": {"plan": "free"}},
    }


def webhook_malformed(rng: Random, cid: str) -> Draft:
    good = _delivery(rng, cid)
    no_id = copy.deepcopy(good)
    no_id["event"].pop("distinct_id")
    no_name = copy.deepcopy(good)
    no_name["event"].pop("event")
    body = pick(
        rng,
        [
            5,
            "x",
            None,
            [],
            {"event": "x"},
            no_id,
            no_name,
            [good, 5],
            {"person": {}},
            [good] * 1001,
        ],
    )
    headers = {"authorization": f"Bearer {WEBHOOK_SECRET}"}
    return Draft(Wire("POST", "/webhooks/posthog", dumps(body), headers, {}))


def webhook_wrong_secret(rng: Random, cid: str) -> Draft:
    headers = pick(
        rng,
        [
            {},
            {"authorization": "Bearer wrong"},
            {"authorization": f"Basic {WEBHOOK_SECRET}"},
            {"authorization": "Bearer"},
            {"authorization": f"Bearer {API_KEY}"},
            {"x-usertrail-secret": TOKEN},
            {"x-webhook-secret": WEBHOOK_SECRET.upper()},
        ],
    )
    return Draft(Wire("POST", "/webhooks/posthog", dumps(_delivery(rng, cid)), headers, {}))
