"""Which words are English words, so that typo tolerance never "corrects" a real word the
articles happen not to use into one they do ("binned" is not a misspelt "pinned", "came" not
a misspelt "care").

The word list is pyspellchecker's English frequency list (160,000 words from subtitles and
books), shipped inside its wheel: nothing is downloaded.
"""

from __future__ import annotations

from functools import cache

from spellchecker import SpellChecker

# A word seen this few times in the list's corpus may be a common misspelling that made it in.
MIN_COUNT = 5
# The most frequent English words ("back", "right", "use", "never", "last") name nothing in
# particular: a question made of them does not say what it is about.
COMMON = 300


@cache
def _counts() -> dict[str, int]:
    """Loaded once per process, on first use (about 0.15 s)."""
    return dict(SpellChecker(language="en").word_frequency.items())


@cache
def english_words() -> frozenset[str]:
    return frozenset(word for word, count in _counts().items() if count >= MIN_COUNT)


@cache
def common_words() -> frozenset[str]:
    counts = _counts()
    return frozenset(sorted(counts, key=lambda w: (-counts[w], w))[:COMMON])
