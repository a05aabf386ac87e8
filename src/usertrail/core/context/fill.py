"""Fill the Markdown block up to a token budget, most useful lines first.

Each optional line costs about its own tokens (plus a heading before a section's first line).
Summing those is close to, but not exactly, the tokens of the joined text (a newline may merge
with its neighbour), so the result is counted once more and trimmed from the end if over.
"""

from __future__ import annotations

from usertrail.core.context.budget import count_tokens
from usertrail.core.context.render import Line, assemble, blocks, header, render_markdown
from usertrail.errors import BudgetTooSmall
from usertrail.model.context import UserContext


def fill_markdown(ctx: UserContext, max_tokens: int | None) -> str:
    if max_tokens is None:
        return render_markdown(ctx)
    head = header(ctx)
    need = count_tokens(head + "\n")
    if need > max_tokens:
        raise BudgetTooSmall(
            f"max_tokens={max_tokens} is below the {need} tokens this user's header needs"
        )
    kept = _greedy(blocks(ctx), max_tokens - need)
    text = assemble(head, kept)
    while kept and count_tokens(text) > max_tokens:
        kept = _without_orphans(kept[:-1])
        text = assemble(head, kept)
    return text


def _greedy(lines: list[Line], room: int) -> list[Line]:
    kept: list[Line] = []
    keys: set[str] = set()
    sections = {""}
    run_ended = False
    for line in lines:
        if (line.needs and line.needs not in keys) or (line.run and run_ended):
            continue
        cost = count_tokens("\n" + line.text)
        if line.section not in sections:
            cost += count_tokens("\n\n" + line.section)
        if cost > room:
            run_ended = run_ended or line.run
            continue
        room -= cost
        kept.append(line)
        keys.add(line.key)
        sections.add(line.section)
    return kept


def _without_orphans(lines: list[Line]) -> list[Line]:
    keys = {line.key for line in lines if line.key}
    return [line for line in lines if not line.needs or line.needs in keys]
