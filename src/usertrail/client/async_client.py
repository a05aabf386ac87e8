"""`AsyncUsertrail`: the asyncio client (FastAPI apps, agent frameworks)."""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

import httpx

from usertrail.client import calls
from usertrail.client.answers import AccountContext, Assisted, PersonExport
from usertrail.client.errors import error_for
from usertrail.model.context import UserContext
from usertrail.model.privacy import ErasureReport
from usertrail.retrieval.model import Retrieval

T = TypeVar("T")
DEFAULT_TIMEOUT_S = 10.0


class AsyncUsertrail:
    """usertrail's read API with a project's secret API key. Raises `UsertrailError`
    subclasses (`Unauthorized`, `NotFound`, `RateLimited`...) for refused calls."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"}
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self._base, self._headers = base_url.rstrip("/"), headers

    async def user_context(
        self, user_id: str, *, n: int | None = None, max_tokens: int | None = None
    ) -> UserContext:
        """What the user has been doing, as typed data."""
        return await self._send(calls.user_context(user_id, n, max_tokens))

    async def user_prompt(
        self, user_id: str, *, n: int | None = None, max_tokens: int | None = None
    ) -> str:
        """The same, as the Markdown block to put in a system prompt."""
        return await self._send(calls.user_prompt(user_id, n, max_tokens))

    async def group_context(
        self, group_type: str, key: str, *, max_tokens: int | None = None
    ) -> AccountContext:
        """An account's context (`GET /context/group/{type}/{key}`)."""
        return await self._send(calls.group_context(group_type, key, max_tokens))

    async def group_prompt(
        self, group_type: str, key: str, *, max_tokens: int | None = None
    ) -> str:
        return await self._send(calls.group_prompt(group_type, key, max_tokens))

    async def retrieve(self, user_id: str, query: str, *, k: int = 5) -> Retrieval:
        """Help sections for the question, ranked with what the user has been doing."""
        return await self._send(calls.retrieve(user_id, query, k))

    async def assist(self, user_id: str, message: str) -> Assisted:
        return await self._send(calls.assist(user_id, message))

    async def export_person(self, user_id: str) -> PersonExport:
        return await self._send(calls.export_person(user_id))

    async def delete_person(self, user_id: str) -> ErasureReport:
        return await self._send(calls.delete_person(user_id))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncUsertrail:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _send(self, call: calls.Call[T]) -> T:
        answer = await self._http.request(
            call.method,
            self._base + call.path,
            params=call.params,
            json=call.body,
            headers=self._headers,
        )
        if answer.is_error:
            raise error_for(answer.status_code, answer.content, answer.headers.get("retry-after"))
        return calls.answer_of(call, answer.status_code, answer.content)
