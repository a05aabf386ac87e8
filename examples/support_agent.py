"""A pydantic-ai support agent that knows what the user has been doing, through usertrail.

The user's context (usertrail's Markdown block) goes into the agent's instructions on every
run, and a `search_help` tool asks usertrail for the help sections that fit the question *and*
the user's behaviour. Run it against a live usertrail and any model pydantic-ai supports:

    pip install pydantic-ai-slim[openai]
    USERTRAIL_API_KEY=utk_… OPENAI_API_KEY=sk-… python -m examples.support_agent user_42 \\
        "why did my export fail?"
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass

from pydantic_ai import Agent, RunContext
from pydantic_ai.models import Model

from usertrail.client import AsyncUsertrail

INSTRUCTIONS = (
    "You are the product's support assistant. Answer in two or three sentences. Use what the "
    "user has been doing, below, and call search_help before you explain how something works."
)


@dataclass
class Deps:
    usertrail: AsyncUsertrail
    user_id: str


def support_agent(model: Model | str) -> Agent[Deps, str]:
    agent = Agent(model, deps_type=Deps, instructions=INSTRUCTIONS)

    @agent.instructions
    async def what_the_user_did(ctx: RunContext[Deps]) -> str:
        return await ctx.deps.usertrail.user_prompt(ctx.deps.user_id, max_tokens=1500)

    @agent.tool
    async def search_help(ctx: RunContext[Deps], question: str) -> list[str]:
        """Help sections for the question, ranked with what this user has been doing."""
        found = await ctx.deps.usertrail.retrieve(ctx.deps.user_id, question, k=3)
        return [f"{hit.title}\n{hit.text}" for hit in found.hits]

    return agent


async def answer(usertrail: AsyncUsertrail, model: Model | str, user_id: str, question: str) -> str:
    result = await support_agent(model).run(question, deps=Deps(usertrail, user_id))
    return result.output


async def main(user_id: str, question: str) -> None:
    url = os.environ.get("USERTRAIL_URL", "http://127.0.0.1:8000")
    async with AsyncUsertrail(url, os.environ["USERTRAIL_API_KEY"]) as usertrail:
        model = os.environ.get("AGENT_MODEL", "openai:gpt-4o-mini")
        print(await answer(usertrail, model, user_id, question))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
