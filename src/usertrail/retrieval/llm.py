"""An OpenAI-compatible chat completions client: the assistant's only network edge."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic_settings import BaseSettings, SettingsConfigDict

from usertrail.errors import UsertrailError


class LlmError(UsertrailError):
    kind = "llm_error"


class LlmSettings(BaseSettings):
    """`USERTRAIL_LLM_BASE_URL` (e.g. https://api.openai.com/v1 or a local server's /v1),
    `USERTRAIL_LLM_MODEL`, `USERTRAIL_LLM_API_KEY`. No base URL: answers are templated."""

    model_config = SettingsConfigDict(env_prefix="USERTRAIL_LLM_", extra="ignore")

    base_url: str | None = None
    model: str = "gpt-4o-mini"
    api_key: str | None = None
    timeout_s: float = 30.0
    max_tokens: int = 400


class ChatClient:
    def __init__(self, settings: LlmSettings, transport: httpx.AsyncBaseTransport | None = None):
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


def chat_client(settings: LlmSettings | None = None) -> ChatClient | None:
    """The configured client, or None when no endpoint is set (the offline demo)."""
    settings = settings or LlmSettings()
    return ChatClient(settings) if settings.base_url else None
