"""The async shell: a user's context in, ranked help and an assistant answer out."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import structlog

from usertrail.core.context.build import ContextOptions
from usertrail.errors import NotFound
from usertrail.model.context import Recommendation, UserContext
from usertrail.model.project import Project
from usertrail.retrieval.index import HelpIndex
from usertrail.retrieval.llm import ChatClient, LlmError
from usertrail.retrieval.model import Retrieval
from usertrail.retrieval.prompt import assemble, template_answer
from usertrail.retrieval.retriever import retrieve
from usertrail.retrieval.signals import SIGNAL_EVENTS, behaviour_signals
from usertrail.services.context import ContextService

log = structlog.get_logger("usertrail.retrieval")
ASSIST_K = 3


class Assisted(msgspec.Struct, frozen=True, kw_only=True):
    answer: str
    answer_source: str  # "llm" | "template"
    model: str | None
    llm_error: str | None
    prompt: str  # the full prompt as sent (or as it would be sent)
    retrieval: Retrieval
    recommendations: tuple[Recommendation, ...]


class HelpService:
    def __init__(
        self,
        context: ContextService,
        index_for: Callable[[str], HelpIndex | None],
        llm: ChatClient | None = None,
    ) -> None:
        self._context = context
        self._index_for = index_for
        self._llm = llm

    async def search(self, project: Project, user_id: str, query: str, k: int) -> Retrieval:
        index = self._index_for(project.id)
        if index is None:
            raise NotFound("this project has no help articles (set help_docs in its project file)")
        ctx = await self._user(project, user_id)
        return retrieve(index, query, behaviour_signals(ctx), k)

    async def assist(self, project: Project, user_id: str, message: str) -> Assisted:
        ctx = await self._user(project, user_id)
        index = self._index_for(project.id)
        retrieval = (
            retrieve(index, message, behaviour_signals(ctx), ASSIST_K)
            if index
            else Retrieval(
                query=message, expanded_with=(), behaviour_share=0.0, signals=(), hits=()
            )
        )
        prompt = assemble(ctx, retrieval, message)
        answer, source, error = await self._answer(prompt.messages(), retrieval)
        return Assisted(
            answer=answer,
            answer_source=source,
            model=self._llm.model if self._llm and source == "llm" else None,
            llm_error=error,
            prompt=prompt.text(),
            retrieval=retrieval,
            recommendations=ctx.recommendations,
        )

    async def _answer(
        self, messages: list[dict[str, str]], retrieval: Retrieval
    ) -> tuple[str, str, str | None]:
        if self._llm is None:
            return template_answer(retrieval), "template", None
        try:
            return await self._llm.complete(messages), "llm", None
        except LlmError as exc:
            log.warning("llm_failed", detail=exc.detail)
            return template_answer(retrieval), "template", exc.detail

    async def _user(self, project: Project, user_id: str) -> UserContext:
        return await self._context.for_user(project, user_id, ContextOptions(n=SIGNAL_EVENTS))

    async def aclose(self) -> None:
        if self._llm is not None:
            await self._llm.aclose()
