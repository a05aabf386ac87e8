"""The assistant's prompt (context block + help excerpts) and the offline answer. Pure."""

from __future__ import annotations

import re

import msgspec

from usertrail.model.context import UserContext
from usertrail.retrieval.model import Hit, Retrieval, Signal

SYSTEM = (
    "You are the in-app help assistant of this product. Answer the user's message in a few "
    "short sentences, from the help excerpts below, and name the article you used. Use what "
    "the user has been doing to work out what 'this' or 'it' means. If the excerpts do not "
    "answer the question, say so and suggest contacting support."
)
EXCERPT_CHARS = 320
# Below this score (a share of a title match, with behaviour) the top article is a guess: the
# question matched almost nothing and what the user did points nowhere in particular.
MIN_FIT = 0.15
NOTHING_FITS = (
    "I could not find a help article that fits this. Could you say a bit more about what you "
    "were trying to do, or contact support from the help menu?"
)
TIE = 0.005
_TO_YOU = (
    ("the user is ", "you are "),
    ("the user was ", "you were "),
    ("the user's ", "your "),
    ("the user ", "you "),
    ("the last session", "your last session"),
)


class Prompt(msgspec.Struct, frozen=True, kw_only=True):
    system: str
    user: str

    def messages(self) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]

    def text(self) -> str:
        return f"{self.system}\n\n## The user's message\n{self.user}\n"


def assemble(ctx: UserContext, retrieval: Retrieval, message: str) -> Prompt:
    """System: instructions, what the user has been doing (with the suggested next steps),
    the retrieved help. User: their message, as they typed it."""
    sections = [SYSTEM, (ctx.prompt or "").strip(), _help(retrieval.hits)]
    return Prompt(system="\n\n".join(s for s in sections if s), user=message)


def _help(hits: tuple[Hit, ...]) -> str:
    if not hits:
        return "## Help articles\nNo help article matched this question."
    parts = ["## Help articles (most relevant first)"]
    for hit in hits:
        why = f"\nPicked because {'; '.join(hit.reasons)}." if hit.reasons else ""
        parts.append(f"### {hit.title} (article `{hit.article}`){why}\n{hit.text}")
    return "\n\n".join(parts)


def template_answer(retrieval: Retrieval) -> str:
    """Without a language model: the top article and section, why, and its first sentences;
    for an error the user hit, whether a section is about that error; and when nothing fits
    well enough, that it does not, rather than a guess."""
    top = retrieval.hits[0] if retrieval.hits else None
    if top is None or top.score < MIN_FIT:
        return NOTHING_FITS
    if tied_at_the_top(retrieval.hits):
        return _which(retrieval.hits)
    error = _error_hit(retrieval.signals, top)
    if error is not None and top.section in ("error", "overview"):
        return _about_error(top, error)
    because = f" I picked it because {second_person(top.reasons[0])}." if top.reasons else ""
    return f"Have a look at {_where(top)}.{because}\n\n{excerpt(top.text)}"


def tied_at_the_top(hits: tuple[Hit, ...]) -> bool:
    """Whether the first two hits score the same: nothing told them apart (a page that many
    articles are about, and a question that says nothing), so picking one would be a guess.
    (The first may score below the second: a question that names its topic keeps its own
    order, whatever behaviour added to the second.)"""
    return len(hits) > 1 and abs(hits[0].score - hits[1].score) < TIE


def _which(hits: tuple[Hit, ...]) -> str:
    titles = [f"“{h.article_title}”" for h in hits[:3]]
    options = ", ".join(titles[:-1]) + f" or {titles[-1]}"
    return (
        f"I am not sure which help you need: it could be {options}. Could you say a bit more "
        "about what you are trying to do?"
    )


def _about_error(top: Hit, error: Signal) -> str:
    said = f"You hit the error {error.value}."
    if top.section == "error":
        return f"{said} {_about(top)} is about it:\n\n{excerpt(top.text)}"
    return (
        f"{said} “{top.article_title}” is about errors like this one, but none of its sections "
        f"is about this one in particular. What it says in general:\n\n{excerpt(top.text)}\n\n"
        "If that does not help, contact support with the time it happened."
    )


def _where(hit: Hit) -> str:
    """ "“Export failed”, section “E42 – export timed out”" (or the article alone)."""
    section = _section(hit)
    return f"“{hit.article_title}”" + (f", section “{section}”" if section else "")


def _about(hit: Hit) -> str:
    """ "The section “E42 – export timed out” of “Export failed”" (or the article alone)."""
    section = _section(hit)
    return (
        f"The section “{section}” of “{hit.article_title}”" if section else f"“{hit.article_title}”"
    )


def _section(hit: Hit) -> str:
    return hit.title.removeprefix(hit.article_title).removeprefix(" > ")


def _error_hit(signals: tuple[Signal, ...], hit: Hit) -> Signal | None:
    """The error the user hit that the hit was picked for, if any."""
    return next((s for s in signals if s.kind == "error" and s.reason in hit.reasons), None)


def second_person(reason: str) -> str:
    """A reason as said to the user: "the user is on Billing" -> "you are on Billing"."""
    for said, to_you in _TO_YOU:
        reason = reason.replace(said, to_you)
    return reason


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The first sentences of a chunk, whole sentences up to `limit` characters."""
    flat = re.sub(r"\s+", " ", text).strip()
    if len(flat) <= limit:
        return flat
    sentences = re.split(r"(?<=[.!?])\s+", flat)
    out = ""
    for sentence in sentences:
        if out and len(out) + len(sentence) + 1 > limit:
            break
        out = f"{out} {sentence}".strip()
    return out if len(out) <= limit else out[: limit - 1].rstrip() + "…"
