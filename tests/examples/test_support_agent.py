"""examples/support_agent.py, run: a pydantic-ai agent on a real usertrail, with pydantic-ai's
FunctionModel standing in for the LLM (it calls the tool, then answers from what it was given)."""

from __future__ import annotations

from examples.support_agent import answer
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel

from tests.live import API_KEY, LiveServer
from tests.reader_site import USER
from usertrail.client import AsyncUsertrail, Usertrail

QUESTION = "how do I export a report?"


class ScriptedModel:
    """First turn: call search_help. Second: answer with the first section's title and
    the page the instructions say the user is on. Records the instructions it was given."""

    def __init__(self) -> None:
        self.instructions: list[str] = []

    def __call__(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        request = messages[-1]
        assert isinstance(request, ModelRequest)
        self.instructions.append(request.instructions or "")
        returned = [p for p in request.parts if isinstance(p, ToolReturnPart)]
        if not returned:
            return ModelResponse(parts=[ToolCallPart("search_help", {"question": QUESTION})])
        sections = returned[0].content
        assert isinstance(sections, list)
        on_report = "Report" in (request.instructions or "")
        title = str(sections[0]).splitlines()[0]
        return ModelResponse(parts=[TextPart(f"See “{title}”. On Report: {on_report}.")])


async def test_the_agent_answers_with_the_users_context_and_usertrails_help(
    server: LiveServer,
) -> None:
    model = ScriptedModel()
    async with AsyncUsertrail(server.url, API_KEY) as usertrail:
        reply = await answer(usertrail, FunctionModel(model), USER, QUESTION)
    with Usertrail(server.url, API_KEY) as usertrail:
        best = usertrail.retrieve(USER, QUESTION, k=3).hits[0]
        prompt = usertrail.user_prompt(USER, max_tokens=1500)
    assert reply == f"See “{best.title}”. On Report: True."
    assert prompt.strip() in model.instructions[0]  # usertrail's block, as the model saw it
