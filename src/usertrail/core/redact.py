"""Deterministic PII masking for anything user-controlled that may reach a prompt or a sink.

Detectors are regular expressions with validation where a checksum exists (Luhn for cards,
mod-97 for IBANs), so ordinary numbers are not masked. Masks name what was removed
(`[email]`, `[card]`), which keeps the sentence readable for the model.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
_API_KEY = re.compile(
    r"\b(?:sk|pk|rk|phc|phx|utk|whs|ghp|gho|xox[abp]|AKIA)[-_][A-Za-z0-9_-]{12,}|\bAKIA[A-Z0-9]{16}\b"
)
_BEARER = re.compile(
    r"(?i)\b(bearer|token|api[_-]?key|secret|password)([\"']?\s*[:=]\s*[\"']?)([^\s\"',;]{6,})"
)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
_PHONE = re.compile(r"(?<![\w.])\+?\(?\d{1,4}\)?(?:[ .-]?\(?\d{2,4}\)?){2,5}(?![\w.])")
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}")
_IPV6 = re.compile(r"\b(?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f]{0,4}\b")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(text: str) -> bool:
    compact = text.replace(" ", "")
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return 15 <= len(compact) <= 34 and int(number) % 97 == 1


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[card]" if 13 <= len(digits) <= 19 and luhn_ok(digits) else match.group(0)


def _iban(match: re.Match[str]) -> str:
    return "[iban]" if iban_ok(match.group(0)) else match.group(0)


def _ip(match: re.Match[str]) -> str:
    try:
        ipaddress.ip_address(match.group(0))
    except ValueError:
        return match.group(0)
    return "[ip]"


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    if _DATE.fullmatch(text.strip()) or not 7 <= len(digits) <= 15:
        return text
    return "[phone]"


# Order matters: the specific, checksummed shapes first, the loose phone shape last.
_STEPS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (_EMAIL, "[email]"),
    (_JWT, "[token]"),
    (_API_KEY, "[token]"),
    (_BEARER, lambda m: f"{m.group(1)}{m.group(2)}[secret]"),
    (_IBAN, _iban),
    (_CARD, _card),
    (_IPV4, _ip),
    (_IPV6, _ip),
    (_PHONE, _phone),
)


def redact(text: str) -> str:
    """Mask emails, secrets/JWTs, IBANs, card numbers, IP addresses and phone numbers."""
    for pattern, replacement in _STEPS:
        text = pattern.sub(replacement, text)
    return text
