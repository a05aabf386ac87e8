from __future__ import annotations

import pytest

from tests.core.redact_corpus import NEGATIVES, POSITIVES, Positive
from usertrail.core.redact import redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail me at jane.doe+x@example.co.uk please", "mail me at [email] please"),
        ("card 4111 1111 1111 1111 expired", "card [card] expired"),
        ("call +44 20 7946 0958 now", "call [phone] now"),
        ("from 192.168.10.24 today", "from [ip] today"),
        ("iban DE89 3704 0044 0532 0130 00 ok", "iban [iban] ok"),
        ("key sk_live_abcdefghijklmnop1234", "key [token]"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sflKxwRJSMeKKF2QT4fwpM", "jwt [token]"),
        ("password=hunter2hunter2", "password=[secret]"),
    ],
    ids=["email", "card", "phone", "ipv4", "iban", "api-key", "jwt", "password"],
)
def test_pii_is_masked_with_a_named_placeholder(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    ["order 1234 5678 9012 3456 shipped", "version 1.2.3.4000", "Upgrade to Pro", "2026-11-24"],
    ids=["non-luhn-number", "version", "plain", "date"],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text


# -- the corpus: real-world formats, misses and false alarms both counted ----------------------

MIN_RECALL, MIN_PRECISION, MAX_FALSE_ALARM_RATE = 0.97, 0.95, 0.05


def _scores() -> tuple[dict[str, list[bool]], list[str]]:
    """Per kind, whether each positive came out exactly right; and the negatives changed."""
    hits: dict[str, list[bool]] = {}
    for p in POSITIVES:
        hits.setdefault(p.kind, []).append(redact(p.text) == p.text.replace(p.secret, p.mask))
    return hits, [n for n in NEGATIVES if redact(n) != n]


def test_masking_meets_its_precision_and_recall_on_the_corpus() -> None:
    hits, false_alarms = _scores()
    found = sum(sum(h) for h in hits.values())
    positives = sum(len(h) for h in hits.values())
    recall, precision = found / positives, found / (found + len(false_alarms))
    for kind, h in sorted(hits.items()):
        print(f"{kind:6} recall {sum(h)}/{len(h)} = {sum(h) / len(h):.3f}")
    print(
        f"all    recall {found}/{positives} = {recall:.3f}, precision {precision:.3f}, "
        f"false alarms {len(false_alarms)}/{len(NEGATIVES)}: {false_alarms}"
    )
    assert recall >= MIN_RECALL
    assert precision >= MIN_PRECISION
    assert len(false_alarms) / len(NEGATIVES) <= MAX_FALSE_ALARM_RATE
    assert all(sum(h) / len(h) >= 0.9 for h in hits.values()), hits


@pytest.mark.parametrize("sample", POSITIVES, ids=lambda p: f"{p.kind}:{p.secret[:24]}")
def test_no_secret_survives_whole(sample: Positive) -> None:
    """Even where the mask is not exactly right, the secret itself never comes through."""
    assert sample.secret not in redact(sample.text)


def test_order_numbers_are_not_phones() -> None:
    assert redact("Order 555-0100-22 shipped") == "Order 555-0100-22 shipped"
    assert redact("call 555-0100 22") == "call [phone]"


def test_a_valid_card_next_to_other_numbers_is_masked_and_they_are_kept() -> None:
    assert redact("4111 1111 1111 1111 123 12/28") == "[card] 123 12/28"
