from __future__ import annotations

import pytest

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
