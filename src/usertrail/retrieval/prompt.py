"""The assistant's prompt (context block + help excerpts) and the offline answer. Pure."""

from __future__ import annotations

import re

import msgspec

from usertrail.model.context import UserContext
from usertrail.retrieval.model import Hit, Retrieval

SYSTEM = (
    "You are the in-app help assistant of this product. Answer the user's message in a few "
    "short sentences, from the help excerpts below, and name the article you used. Use what "
    "the user has been doing to work out what 'this' or 'it' means. If the excerpts do not "
    "answer the question, say so and suggest contacting support."
)
EXCERPT_CHARS = 320


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
    """Without a language model: point at the top article, say why, quote its start."""
    if not retrieval.hits:
        return (
            "I could not find a help article about that. Could you say a bit more, or contact "
            "support from the help menu?"
        )
    top = retrieval.hits[0]
    section = top.title.removeprefix(top.article_title).removeprefix(" > ")
    where = f", section “{section}”" if section else ""
    because = f" I picked it because {top.reasons[0]}." if top.reasons else ""
    return f"Have a look at “{top.article_title}”{where}.{because}\n\n{excerpt(top.text)}"


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
