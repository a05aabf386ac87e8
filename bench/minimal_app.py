"""The ceiling for HTTP: the smallest ASGI app that answers a capture like usertrail does
(read the body, 200 `{"status":1}`), served by the same uvicorn settings. No decode, no auth,
no storage: what is left of its rate is the server and the loopback, on this machine."""

from __future__ import annotations

from typing import Any

BODY = b'{"status":1}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"12")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:  # read the whole request body, as a capture endpoint must
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
