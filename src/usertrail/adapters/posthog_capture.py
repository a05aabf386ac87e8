"""PostHog's capture endpoint, as the relay posts to it: a gzipped batch over HTTP."""

from __future__ import annotations

import gzip
from typing import Any

import httpx
import orjson

from usertrail import __version__
from usertrail.errors import UpstreamUnreachable
from usertrail.model.relay import UpstreamAnswer


class PosthogCapture:
    def __init__(self, timeout_s: float = 10.0) -> None:
        # Bounded: a hung PostHog is a timeout (retried later), never a stuck relay.
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
            headers={"User-Agent": f"usertrail/{__version__} (relay)"},
        )

    async def post_batch(self, host: str, path: str, body: dict[str, Any]) -> UpstreamAnswer:
        data = gzip.compress(orjson.dumps(body), compresslevel=5)
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        try:
            response = await self._client.post(
                host.rstrip("/") + path, content=data, headers=headers
            )
        except httpx.TransportError as exc:  # refused, reset, timed out, bad TLS
            raise UpstreamUnreachable(f"{type(exc).__name__}: {exc}") from exc
        return UpstreamAnswer(
            status=response.status_code,
            text=response.text[:500],
            retry_after=response.headers.get("retry-after"),
        )

    async def aclose(self) -> None:
        await self._client.aclose()
