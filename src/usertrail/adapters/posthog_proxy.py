"""Forwarding an SDK request to PostHog and streaming its answer back (flags, remote config,
SDK assets, session recordings). Bounded: connect and read timeouts, a pool of connections."""

from __future__ import annotations

import httpx

from usertrail.errors import UpstreamUnreachable
from usertrail.model.relay import Proxied

# Hop-by-hop headers (RFC 9110 §7.6.1) are the proxy's own; CORS headers come from
# usertrail's own middleware (two Allow-Origin headers fail in browsers).
_DROP_RESPONSE = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "server",
        "date",
    }
)


def response_headers(headers: httpx.Headers) -> list[tuple[str, str]]:
    return [
        (k, v)
        for k, v in headers.multi_items()
        if k.lower() not in _DROP_RESPONSE and not k.lower().startswith("access-control-")
    ]


class PosthogProxy:
    def __init__(self, timeout_s: float = 10.0) -> None:
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            follow_redirects=False,
        )

    async def forward(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None
    ) -> Proxied:
        request = self._client.build_request(method, url, headers=headers, content=body)
        try:
            response = await self._client.send(request, stream=True)
        except httpx.TransportError as exc:
            raise UpstreamUnreachable(f"{type(exc).__name__}: {exc}") from exc
        return Proxied(
            status=response.status_code,
            headers=response_headers(response.headers),
            body=response.aiter_raw,
            close=response.aclose,
        )

    async def aclose(self) -> None:
        await self._client.aclose()
