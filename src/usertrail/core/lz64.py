"""lz-string's base64 form (`compression=lz64`, sent by older posthog-js), inflated with a bound.

The same algorithm as pieroxy/lz-string's `_decompress`, for two reasons: the `lzstring` package
inflates without any limit (its dictionary entries grow by a character per code, so a few KB
can name gigabytes) and at under 1 MB/s, because it scans the alphabet for every character.
Here codes are read from a string of bits (a slice and an `int()` each), and inflating stops
at `max_chars`. The result is UTF-16 code units, as JavaScript strings are; `to_text` pairs
the surrogates.
"""

from __future__ import annotations

import re

from usertrail.errors import BadPayload, PayloadTooLarge

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_SIX_BITS = {c: format(i & 63, "06b") for i, c in enumerate(_ALPHABET)}  # '=' reads as zeros
_VALID = re.compile(r"[A-Za-z0-9+/=]*")
_CHUNK = 8192  # characters turned into bits at a time: memory stays small for big bodies
_CHAR, _WIDE_CHAR, _END = 0, 1, 2  # lz-string's reserved codes


class _BitReader:
    """Bits in stream order; a code's first bit is its least significant (lz-string's order).
    Past the end it reads zeros, as JavaScript's `charAt` beyond the string does."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._buf = ""
        self._off = 0
        self._next = 0
        self.pos = 0
        self.total = 6 * len(text)

    def read(self, width: int) -> int:
        if self._off + width > len(self._buf):
            chunk = self._text[self._next : self._next + _CHUNK]
            self._next += len(chunk)
            self._buf = self._buf[self._off :] + "".join([_SIX_BITS[c] for c in chunk])
            self._off = 0
        bits = self._buf[self._off : self._off + width]
        self._off += width
        self.pos += width
        return int(bits[::-1], 2) if bits else 0


def decompress_base64(text: str, max_chars: int) -> str:
    """Inflate; BadPayload when it is not lz-string, PayloadTooLarge past `max_chars`."""
    if not text or not _VALID.fullmatch(text):
        raise BadPayload("invalid lz64 body: not base64 text")
    bits = _BitReader(text)
    first = bits.read(2)
    if first == _END:
        return ""
    if first not in (_CHAR, _WIDE_CHAR):
        raise BadPayload("invalid lz64 body: no first character")
    w = chr(bits.read(8 if first == _CHAR else 16))
    dictionary, out, size = ["", "", "", w], [w], 1
    num_bits, enlarge_in = 3, 4
    while True:
        if bits.pos >= bits.total:
            raise BadPayload("invalid lz64 body: truncated")
        code = bits.read(num_bits)
        if code == _END:
            return "".join(out)
        if code in (_CHAR, _WIDE_CHAR):
            dictionary.append(chr(bits.read(8 if code == _CHAR else 16)))
            code = len(dictionary) - 1
            enlarge_in, num_bits = _widen(enlarge_in - 1, num_bits)
        entry = _entry(dictionary, code, w)
        size += len(entry)
        if size > max_chars:
            raise PayloadTooLarge(f"decompressed lz64 body exceeds {max_chars} characters")
        out.append(entry)
        dictionary.append(w + entry[0])
        w = entry
        enlarge_in, num_bits = _widen(enlarge_in - 1, num_bits)


def _widen(enlarge_in: int, num_bits: int) -> tuple[int, int]:
    """Codes grow a bit wider each time the dictionary outgrows the current width."""
    return (1 << num_bits, num_bits + 1) if enlarge_in == 0 else (enlarge_in, num_bits)


def _entry(dictionary: list[str], code: int, w: str) -> str:
    if code < len(dictionary):
        return dictionary[code]
    if code == len(dictionary):
        return w + w[0]  # the one code that may name the entry being built
    raise BadPayload("invalid lz64 body: a code names no dictionary entry")


def to_text(code_units: str) -> str:
    """UTF-16 code units (what JavaScript compressed) -> text; a lone surrogate is an error."""
    try:
        return code_units.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    except UnicodeDecodeError as exc:
        raise BadPayload("lz64 body holds invalid unicode (a lone surrogate)") from exc
