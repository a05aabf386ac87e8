"""What a proxied SDK request carries upstream (web.proxy): the SDK's own headers, less the
hop-by-hop ones (RFC 9110 §7.6.1) and the caller's credentials, plus who asked."""

from __future__ import annotations

from collections.abc import Mapping

# `host` and `content-length` are the upstream request's own; cookies and credentials of the
# app's domain are not PostHog's to read.
_DROPPED = frozenset(
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


def request_headers(
    headers: Mapping[str, str], client_ip: str | None, scheme: str, host: str
) -> dict[str, str]:
    out = {k: v for k, v in headers.items() if k.lower() not in _DROPPED}
    chain = headers.get("x-forwarded-for")
    if client_ip:
        out["X-Forwarded-For"] = f"{chain}, {client_ip}" if chain else client_ip
    out["X-Forwarded-Proto"] = scheme
    out["X-Forwarded-Host"] = host
    return out
