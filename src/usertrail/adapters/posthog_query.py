"""PostHog's query API (`POST /api/projects/:id/query/`, a personal API key with Query Read),
as `usertrail import posthog` pages through it."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec

from usertrail import __version__
from usertrail.errors import QueryRefused, Throttled, UpstreamUnreachable
from usertrail.model.relay import QueryAnswer


class PosthogQuery:
    def __init__(self, host: str, project_id: str, api_key: str, timeout_s: float = 120.0) -> None:
        self._url = f"{host.rstrip('/')}/api/projects/{project_id}/query/"
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=10.0),
            headers={
                "Authorization": f"Bearer {api_key}",
                "User-Agent": f"usertrail/{__version__} (import)",
            },
        )

    async def run(self, body: dict[str, Any]) -> QueryAnswer:
        try:
            response = await self._client.post(self._url, json=body)
        except httpx.TransportError as exc:
            raise UpstreamUnreachable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code == 429:
            error = Throttled(f"PostHog throttled the query: {response.text[:200]}")
            error.retry_after_s = _seconds(response.headers.get("retry-after"))
            raise error
        if response.status_code >= 500:
            raise UpstreamUnreachable(f"HTTP {response.status_code}: {response.text[:200]}")
        if response.status_code != 200:
            raise QueryRefused(f"HTTP {response.status_code}: {response.text[:500]}")
        try:
            return msgspec.json.decode(response.content, type=QueryAnswer)
        except msgspec.DecodeError as exc:  # not JSON, or not of the answer's shape
            raise QueryRefused(f"unexpected query answer: {exc}; {response.text[:200]!r}") from exc

    async def aclose(self) -> None:
        await self._client.aclose()


def _seconds(value: str | None) -> int:
    try:
        return max(1, min(3600, int(float(value or "60"))))
    except ValueError:
        return 60
