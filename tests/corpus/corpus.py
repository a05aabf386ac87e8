"""The malformed-capture corpus: named mutation families, what each must get back and why.

`corpus(seed)` is deterministic: the same seed gives the same requests, byte for byte, so a
failure names a family and a case number that reproduce.
"""

from __future__ import annotations

from collections.abc import Iterator
from random import Random

from tests.corpus import encodings as enc
from tests.corpus import ids
from tests.corpus import structure as st
from tests.corpus.cases import Case, Family

F = Family

FAMILIES = (
    # -- compression
    F(enc.gzip_truncated, "400", 300, "a cut gzip stream never reaches its end"),
    F(enc.gzip_corrupted, "400", 300, "gzip checks CRC-32 and length: flipped bytes fail"),
    F(enc.gzip_bomb, "413", 24, "inflating stops at the 20 MB limit"),
    F(enc.gzip_nested, "400", 200, "gzip is inflated once; the inner stream is not JSON"),
    F(enc.gzip_label_on_plain, "400", 200, "Content-Encoding: gzip promises gzip"),
    # -- base64 and lz64
    F(enc.base64_invalid_chars, "400", 300, "base64 is decoded strictly"),
    F(enc.base64_truncated, "400", 300, "a cut base64 body is cut JSON"),
    F(enc.lz64_invalid, "400", 300, "not lz-string: bad characters, cut, or noise"),
    F(enc.lz64_bomb, "413", 20, "lz-string inflation stops at the limit"),
    # -- JSON text and Unicode
    F(enc.json_truncated, "400", 400, "a proper prefix of an object is not JSON"),
    F(enc.json_byte_flips, "either", 500, "a flip inside a string leaves valid JSON"),
    F(enc.invalid_utf8, "400", 300, "JSON text is UTF-8"),
    F(enc.raw_surrogate_bytes, "400", 200, "UTF-8 has no surrogates"),
    F(enc.raw_control_chars, "400", 300, "JSON strings escape control characters"),
    F(enc.escaped_nul, "2xx", 300, "\\u0000 is valid JSON, kept as data"),
    F(enc.lone_surrogate_escape, "400", 300, "a lone \\ud800 is no character"),
    F(enc.surrogate_pair_escape, "2xx", 200, "a paired escape is one character"),
    # -- numbers and depth
    F(enc.huge_integer, "400", 300, "past a double's range: refused, not rounded to inf"),
    F(enc.wide_integer, "2xx", 300, "past 64 bits a number is a double, as in JS"),
    F(enc.long_fraction, "2xx", 300, "a 5,000-digit fraction is a double"),
    F(enc.deep_nesting, "400", 300, "past 1,024 levels the parser refuses"),
    F(enc.nesting_past_storable, "400", 200, "parses, but cannot be stored as received"),
    F(enc.nesting_within_limits, "2xx", 200, "200 levels are stored as received"),
    # -- duplicate keys and sizes
    F(enc.duplicate_keys, "2xx", 300, "the last duplicate wins, as in JSON.parse"),
    F(enc.duplicate_keys_last_wrong, "400", 300, "the winning duplicate has the wrong type"),
    F(enc.huge_string, "413", 60, "an event is at most 1 MB, as in PostHog"),
    F(enc.big_string, "2xx", 60, "strings under the event limit are data"),
    F(enc.oversize_body, "413", 3, "a request is at most 20 MB"),
    # -- wrong types
    F(st.wrong_type_body, "400", 200, "a body is an event, an array or an envelope"),
    F(st.wrong_type_batch, "400", 200, "'batch' is a non-empty list"),
    F(st.wrong_type_event, "400", 300, "every event is an object"),
    F(st.wrong_type_event_name, "400", 300, "'event' is a non-empty string"),
    F(st.wrong_type_properties, "400", 300, "'properties' is an object"),
    F(st.wrong_type_distinct_id, "400", 300, "a distinct id is a string or a number"),
    F(st.numeric_distinct_id, "2xx", 200, "PostHog accepts numbers as ids"),
    F(st.wrong_type_metadata, "2xx", 400, "optional fields of any type are kept raw"),
    F(st.property_values, "2xx", 300, "properties hold any JSON"),
    # -- tokens
    F(st.wrong_token, "401", 400, "every token position holds an unknown token"),
    F(st.wrong_type_token, "401", 300, "a token is a string"),
    F(st.missing_token, "401", 150, "no token anywhere"),
    F(st.wrong_token_shadowed, "2xx", 150, "the body's token comes first, as in PostHog"),
    # -- headers, query, empty
    F(st.content_type_lies, "2xx", 300, "gzip is known by its bytes, not the headers"),
    F(st.compression_hint_lies, "400", 200, "a base64/lz64 hint on JSON is obeyed"),
    F(st.empty_body, "400", 150, "no events"),
    F(st.query_junk, "2xx", 200, "unknown or junk parameters are ignored"),
    # -- ids (core.ids): one rule on SQLite and PostgreSQL
    F(ids.id_control_chars, "400", 200, "an id holds no control character (NUL included)"),
    F(ids.id_too_long, "400", 120, "past 200 characters an id is refused, never cut"),
    F(ids.id_any_unicode, "2xx", 250, "any other text is an id, stored whole, read back"),
    F(ids.merge_with_impossible_id, "2xx", 150, "the merge is ignored, the event processed"),
    # -- the webhook destination
    F(st.webhook_malformed, "400", 200, "a delivery is {'event': {...}}"),
    F(st.webhook_wrong_secret, "401", 200, "the shared secret names the project"),
)


def corpus(seed: int = 9) -> Iterator[Case]:
    """Made lazily: the whole corpus is over 200 MB of bodies, a few in flight at a time."""
    for family in FAMILIES:
        rng = Random(f"{seed}/{family.name}")  # a family's cases do not shift when others change
        for n in range(family.count):
            yield Case(family.name, n, family.expect, family.make(rng, f"{family.name}#{n}"))
