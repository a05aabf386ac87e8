"""Deterministic PII masking for anything user-controlled that may reach a prompt or a sink.

Detectors are regular expressions with validation where a checksum or a grammar exists (Luhn
for cards, mod-97 for IBANs, `ipaddress` for IPs), so ordinary numbers are not masked. Masks
name what was removed (`[email]`, `[card]`), which keeps the sentence readable for the model.
Precision and recall are measured on a corpus of real-world formats, misses and false alarms
alike (tests/core/redact_corpus.py, printed by tests/core/test_redact.py).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

from usertrail.core.secret_keys import API_KEY, mask_key

# Unicode letters in both parts (josé@exemple.fr, müller@bücher.de); the TLD is letters.
_EMAIL = re.compile(r"[\w.%+'-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
_BEARER = re.compile(
    r"(?i)\b(bearer|token|api[_-]?key|secret|password)([\"']?\s*[:=]\s*[\"']?)"
    r"(?!\[\w+\])([^\s\"',;]{6,})"  # not a value an earlier step masked already
)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
# A run of digits with single spaces, dashes or dots between them; _card finds the card in it.
_DIGIT_RUN = re.compile(r"(?<![\w.])\d(?:[ .-]?\d){11,}(?![\w])")
_GROUP = re.compile(r"\d+")
# How cards are written: 4-4-4-4 (Visa, Mastercard...), 4-6-5 (Amex), 4-6-4 (Diners), or
# 4-4-4-1..7 (19-digit cards); or one unbroken group.
_CARD_LAYOUTS = ((4, 4, 4, 4), (4, 6, 5), (4, 6, 4), (4, 4, 4, 1), (4, 4, 4, 7), (4, 4, 4, 3))
# After a country code, one digit may stand alone (+33 1 23 45 67 89, +61 2 9374 4000).
_PHONE = re.compile(
    r"(?<![\w.\-/])(?:\+\d{1,3}[ .-]?\(?\d{1,4}\)?|\(?\d{1,4}\)?)(?:[ .-]?\(?\d{2,4}\)?){2,5}"
    r"(?![\w.]|-\d)"
)
# A decimal, or four dotted groups (an impossible IPv4 such as 999.1.1.1): not a phone.
_NOT_PHONE_SHAPES = re.compile(r"\d+\.\d+|\d{1,3}(?:\.\d{1,3}){3}")
# A number after one of these words names an order, a ticket, a build: not a phone.
_NOT_A_PHONE = re.compile(
    r"(?i)(?:order|invoice|ticket|ref|reference|tracking|sku|case|po|id|build|version|"
    r"release|receipt|account|acct|booking|confirmation|serial|part|item|isbn|#)\s*"
    r"(?:no\.?|n[o°]|#)?\s*[:#]?\s*$"
)
# Dotted numbers after these words are versions, not IPv4 addresses.
_NOT_AN_IP = re.compile(r"(?i)(?:version|release|build|v|ver\.?)\s*[:#]?\s*$")
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}")
# Full, compressed (2001:db8::1, ::1) and IPv4-mapped forms; ipaddress decides.
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4})"
    r"(?:%[\w.]+)?(?![\w:])"
)


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


def _is_card(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


def _card(match: re.Match[str]) -> str:
    """The whole run when it is a card; else a card written the way cards are, inside it
    (a card next to an order number or a CVV); else the run unchanged."""
    text = match.group(0)
    if _is_card(re.sub(r"\D", "", text)):
        return "[card]"
    groups = list(_GROUP.finditer(text))
    for start, end in _card_windows([len(g.group(0)) for g in groups]):
        digits = "".join(g.group(0) for g in groups[start:end])
        if _is_card(digits):
            head, tail = text[: groups[start].start()], text[groups[end - 1].end() :]
            return head + "[card]" + tail
    return text


def _card_windows(sizes: list[int]) -> list[tuple[int, int]]:
    """(start, end) group slices laid out as a card is written, longest first."""
    windows = [
        (i, i + len(layout))
        for layout in _CARD_LAYOUTS
        for i in range(len(sizes) - len(layout) + 1)
        if tuple(sizes[i : i + len(layout)]) == layout
    ]
    windows += [(i, i + 1) for i, size in enumerate(sizes) if 13 <= size <= 19]
    return sorted(windows, key=lambda w: sum(sizes[w[0] : w[1]]), reverse=True)


def _iban(match: re.Match[str]) -> str:
    return "[iban]" if iban_ok(match.group(0)) else match.group(0)


def _ip(match: re.Match[str]) -> str:
    if _NOT_AN_IP.search(_before(match)):
        return match.group(0)
    try:
        ipaddress.ip_address(match.group(0).split("%", 1)[0])
    except ValueError:
        return match.group(0)
    return "[ip]"


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    if _DATE.fullmatch(text.strip()) or not 7 <= len(digits) <= 15:
        return text
    if _NOT_PHONE_SHAPES.fullmatch(text) or _NOT_A_PHONE.search(_before(match)):
        return text
    return "[phone]"


def _before(match: re.Match[str], chars: int = 24) -> str:
    """The text just before a match: the word naming what the number is, if any."""
    return match.string[max(0, match.start() - chars) : match.start()]


# Order matters: the specific, checksummed shapes first, the loose phone shape last; IPv6
# before IPv4, so a mapped address (::ffff:192.0.2.1) is masked whole.
_STEPS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (_EMAIL, "[email]"),
    (_JWT, "[token]"),
    (API_KEY, mask_key),
    (_BEARER, lambda m: f"{m.group(1)}{m.group(2)}[secret]"),
    (_IBAN, _iban),
    (_DIGIT_RUN, _card),
    (_IPV6, _ip),
    (_IPV4, _ip),
    (_PHONE, _phone),
)


def redact(text: str) -> str:
    """Mask emails, secrets/JWTs, IBANs, card numbers, IP addresses and phone numbers."""
    for pattern, replacement in _STEPS:
        text = pattern.sub(replacement, text)
    return text
