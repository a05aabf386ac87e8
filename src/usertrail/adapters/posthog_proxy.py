"""Forwarding an SDK request to PostHog and streaming its answer back (flags, remote config,
SDK assets, session recordings). Bounded: connect and read timeouts, a pool of connections."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

import httpx
import msgspec

from usertrail.errors import UpstreamUnreachable

# Hop-by-hop headers (RFC 9110 §7.6.1) are the proxy's own; `host` is the upstream's; CORS
# headers come from usertrail's own middleware (two Allow-Origin headers fail in browsers).
_DROP_REQUEST = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "cookie",
        "authorization",
    }
)
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


class Proxied(msgspec.Struct, frozen=True, kw_only=True):
    status: int
    headers: list[tuple[str, str]]
    body: Callable[[], AsyncIterator[bytes]]  # the raw (still encoded) bytes, streamed
    close: Callable[[], Awaitable[None]]


def request_headers(
    headers: Mapping[str, str], client_ip: str | None, scheme: str, host: str
) -> dict[str, str]:
    """What goes upstream: the SDK's headers, less hop-by-hop ones, plus who asked."""
    out = {k: v for k, v in headers.items() if k.lower() not in _DROP_REQUEST}
    chain = headers.get("x-forwarded-for")
    if client_ip:
        out["X-Forwarded-For"] = f"{chain}, {client_ip}" if chain else client_ip
    out["X-Forwarded-Proto"] = scheme
    out["X-Forwarded-Host"] = host
    return out


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
