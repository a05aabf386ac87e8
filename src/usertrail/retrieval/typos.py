"""Typo tolerance: a query word the index has never seen is read as the nearest word it has.
Pure: the vocabulary (surface word -> how many chunks hold it) is an argument.

Edit distance over a vocabulary of a few thousand words, narrowed first by shared trigrams,
needs no model and nothing from the network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set

from usertrail.retrieval.text import STOP_WORDS

MIN_LENGTH = 4  # shorter words have too many neighbours one edit away ("cat", "car", "can")
MIN_SHARED_TRIGRAMS = 1
# A short word that the articles do not use is more often a real word ("land", "bill") than a
# typo; a typo seldom changes the first letter, so a short word's candidates must keep it.
SHORT = 6


def max_edits(word: str) -> int:
    """One edit for a short word, two from eight letters on ("permisions", "subscripton")."""
    return 1 if len(word) < 8 else 2


def trigrams(word: str) -> frozenset[str]:
    padded = f"^{word}$"
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


def edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein (adjacent swaps count once: "recieve"), or limit + 1 beyond it."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous: list[int] | None = None
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + cost)
            swapped = i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]
            if swapped and previous is not None:
                current[j] = min(current[j], previous[j - 2] + 1)
        previous, row = row, current
        if min(row) > limit:
            return limit + 1
    return row[-1]


def correction(
    word: str, vocabulary: Mapping[str, int], real_words: Set[str] = frozenset()
) -> str | None:
    """The vocabulary word nearest to an unknown one (fewest edits, then most common), or None
    when nothing is within reach, or when the word is a real word (`real_words`) that the
    vocabulary does not hold: "binned" is not a misspelt "pinned"."""
    if len(word) < MIN_LENGTH or word in vocabulary or word in real_words or not word.isalpha():
        return None
    limit, grams = max_edits(word), trigrams(word)
    best: tuple[int, int, str] | None = None
    for known, count in vocabulary.items():
        if not _candidate(word, known, limit, grams):
            continue
        distance = edit_distance(word, known, limit)
        if distance <= limit and (best is None or (distance, -count, known) < best):
            best = (distance, -count, known)
    return best[2] if best else None


def _candidate(word: str, known: str, limit: int, grams: frozenset[str]) -> bool:
    return (
        len(known) >= MIN_LENGTH
        and known not in STOP_WORDS  # "land" is not a misspelt "and"
        and abs(len(known) - len(word)) <= limit
        and (len(word) >= SHORT or known[0] == word[0])
        and len(grams & trigrams(known)) >= MIN_SHARED_TRIGRAMS
    )


def corrected(
    words: Sequence[str], vocabulary: Mapping[str, int], real_words: Set[str] = frozenset()
) -> list[str]:
    """The words with each unknown one replaced by its correction (kept when there is none)."""
    return [correction(w, vocabulary, real_words) or w for w in words]
