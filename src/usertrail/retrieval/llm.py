"""An OpenAI-compatible chat completions client: the assistant's only network edge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from usertrail.errors import UsertrailError


class LlmError(UsertrailError):
    kind = "llm_error"


@dataclass(frozen=True)
class LlmConfig:
    """From settings `USERTRAIL_LLM_BASE_URL` (e.g. https://api.openai.com/v1 or a local
    server's /v1), `_MODEL`, `_API_KEY`, `_TIMEOUT_S`, `_MAX_TOKENS`. No base URL: answers
    are templated."""

    base_url: str | None = None
    model: str = "gpt-4o-mini"
    api_key: str | None = None
    timeout_s: float = 30.0
    max_tokens: int = 400


class ChatClient:
    def __init__(self, settings: LlmConfig, transport: httpx.AsyncBaseTransport | None = None):
        if not settings.base_url:
            raise ValueError("ChatClient needs a base URL")
        self.model = settings.model
        self._url = settings.base_url.rstrip("/") + "/chat/completions"
        self._max_tokens = settings.max_tokens
        headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
        self._http = httpx.AsyncClient(
            timeout=settings.timeout_s, headers=headers, transport=transport
        )

    async def complete(self, messages: list[dict[str, str]]) -> str:
        body = {"model": self.model, "messages": messages, "max_tokens": self._max_tokens}
        try:
            response = await self._http.post(self._url, json=body)
            response.raise_for_status()
            return _content(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            raise LlmError(f"language model at {self._url}: {type(exc).__name__}: {exc}") from exc

    async def aclose(self) -> None:
        await self._http.aclose()


def _content(data: Any) -> str:
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise ValueError(f"not a chat completion: {str(data)[:200]}") from exc
    if not isinstance(content, str) or not content.strip():
        raise ValueError("the completion has no text")
    return content.strip()


def chat_client(settings: LlmConfig) -> ChatClient | None:
    """The configured client, or None when no endpoint is set (the offline demo)."""
    return ChatClient(settings) if settings.base_url else None
