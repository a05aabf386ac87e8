"""Whether a question says what it is about, or points at something on the user's screen.
Pure: what counts as a name is an argument.

"How do I add my colleague to our workspace?" names three things; "can I undo that?" names
one and points at the rest. A question that names its topic is answered by its own words,
however weakly they match the articles (the user may call a teammate a colleague): the
behaviour does not reorder what it matches. One that points is settled by the behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from usertrail.retrieval.text import dedupe

# Names the question must hold to say what it is about; more when it also points at
# something, since "it" may then stand for something the question does not name.
TOPIC_WORDS = 3
TOPIC_WORDS_POINTING = 5
# "this", "these"... point at the screen. A pronoun points only when no name comes before
# it ("I binned a report, can I get it back?" refers back), "that" right after a name is a
# relative pronoun ("the email that lists..."), and "there" next to "is" says that something
# exists ("is there a way to...?").
DEMONSTRATIVES = frozenset(("this", "these", "those", "here", "there"))
PRONOUNS = frozenset(("it", "its", "they", "them", "she", "her", "he", "his", "him"))
BE = frozenset(("is", "are", "was", "were", "be", "s"))
# "this month", "these days": a date, not something on the screen; "this app", "this
# thing": the product itself, which every article is about.
_TIMES = "day days week weeks weekend month months quarter year years morning evening time"
_PRODUCT = "app application thing tool product software platform site website service"
NOT_POINTED_AT = frozenset(_TIMES.split()) | frozenset(_PRODUCT.split())

IsName = Callable[[str], bool]


def names_its_topic(
    question: Sequence[str], is_name: IsName, is_specific: IsName = lambda _: False
) -> bool:
    """`question`: its words in order, stop words included. `is_specific`: whether a name
    is one that only a few articles hold ("2fa", "429", "sso"): a question that names one and
    points at nothing says what it is about however short it is."""
    names = [w for w in dedupe(question) if is_name(w)]
    if points(question, is_name):
        return len(names) >= TOPIC_WORDS_POINTING
    return len(names) >= TOPIC_WORDS or any(is_specific(w) for w in names)


def points(question: Sequence[str], is_name: IsName) -> bool:
    """Whether the question points at something it does not name."""
    named = False
    for before, word, after in zip(["", *question], question, [*question[1:], ""], strict=False):
        if (word == "there" and (before in BE or after in BE)) or after in NOT_POINTED_AT:
            continue
        if word in DEMONSTRATIVES or (word == "that" and not is_name(before)):
            return True
        if word in PRONOUNS and not named:
            return True
        named = named or is_name(word)
    return False
