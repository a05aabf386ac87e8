"""What every request passes before any route reads it: the key first where a body or a
stream follows, a bounded body, and a deadline for that body to arrive.

Routes that read a JSON body (POST /retrieve, /assist, MCP) had FastAPI read and validate the
whole body before the key was checked, with no size limit: a 300 MB body from anyone took the
server to 2.1 GB. Here a wrong key is 401 before one body byte is read; a body past its
route's limit is 413 (by Content-Length at once, else once the limit is crossed); and a body
that has not arrived `timeout_s` after the request began is 408. Capture and the webhook
destination keep their own 20 MB limit (web.capture) and only get the deadline.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from usertrail.authorization import bearer
from usertrail.errors import BadCredentials, PayloadTooLarge, RequestTimeout, UsertrailError
from usertrail.web.capture import CAPTURE_PATHS
from usertrail.web.mcp_gate import MCP_REFUSED
from usertrail.web.problems import instance_of, problem, refused

if TYPE_CHECKING:
    from usertrail.front import Services

SMALL_BODY_BYTES = 256 * 1024  # a JSON question, a login form, an MCP call
# Paths whose requests carry a body or open a stream for a key holder only.
KEYED = ("/retrieve", "/assist", "/mcp")
# Capture-like routes read their own bodies, up to 20 MB (recordings, LLM analytics).
_OWN_LIMIT = (*CAPTURE_PATHS, "/webhooks/posthog", "/s", "/i/v0/ai")
NO_KEY = "missing or wrong API key (send 'Authorization: Bearer <key>')"


class RequestGuard:
    def __init__(self, app: ASGIApp, services: Services, timeout_s: float) -> None:
        self.app = app
        self._services = services
        self._timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        deadline = asyncio.get_running_loop().time() + self._timeout_s
        try:
            if _under(path, KEYED) and not await self._key_holder(scope):
                if _under(path, ("/mcp",)):  # said in JSON-RPC, so MCP clients show it
                    await _drain(receive, deadline)
                    await MCP_REFUSED(scope, receive, send)
                    return
                raise BadCredentials(NO_KEY)
            if _under(path, ("/mcp",)) and scope["method"] == "GET":
                await _no_mcp_stream(scope, receive, send)
                return
            if _under(path, _OWN_LIMIT):
                receive = before_deadline(deadline, receive)
            else:
                receive = await _buffered(scope, receive, deadline)
        except UsertrailError as exc:
            await _drain(receive, deadline)
            await refused(self._services.metrics, scope, exc)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _key_holder(self, scope: Scope) -> bool:
        """A key that names a project (no read token taken: the route takes it)."""
        headers = dict(scope["headers"])
        key = bearer(headers.get(b"authorization", b"").decode("latin-1"))
        return await self._services.context.lookup_key(key) is not None


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


async def _no_mcp_stream(scope: Scope, receive: Receive, send: Send) -> None:
    """MCP here is stateless with JSON answers: the server never pushes, so the standing
    GET stream the protocol allows is refused (405, as the MCP spec says), not held open."""
    refusal = problem(405, "use POST", instance=instance_of(scope), headers={"Allow": "POST"})
    await refusal(scope, receive, send)


def before_deadline(deadline: float, receive: Receive) -> Receive:
    """`receive`, failing with RequestTimeout when the body is not complete by `deadline`."""
    done = False

    async def bounded() -> Message:
        nonlocal done
        if done:  # the body is in: later calls wait for a disconnect, for as long as it takes
            return await receive()
        message = await _within(deadline, receive)
        done = message["type"] != "http.request" or not message.get("more_body", False)
        return message

    return bounded


async def _within(deadline: float, receive: Receive) -> Message:
    """One `receive()` by the deadline (event-loop time). No task per call, unlike
    wait_for on 3.11: this runs for every request."""
    try:
        async with asyncio.timeout_at(deadline):
            return await receive()
    except TimeoutError:
        raise RequestTimeout("the request body did not arrive in time") from None


async def _buffered(scope: Scope, receive: Receive, deadline: float) -> Receive:
    """The whole (small) body read now, then handed to the app as one message."""
    declared = dict(scope["headers"]).get(b"content-length", b"")
    if declared.isdigit() and (len(declared) > 12 or int(declared) > SMALL_BODY_BYTES):
        raise PayloadTooLarge(f"request body exceeds {SMALL_BODY_BYTES} bytes")
    chunks, size, more = [], 0, True
    while more:
        message = await _within(deadline, receive)
        if message["type"] != "http.request":
            return _replay(message, receive)  # the client left: the app sees the same
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > SMALL_BODY_BYTES:
            raise PayloadTooLarge(f"request body exceeds {SMALL_BODY_BYTES} bytes")
        more = message.get("more_body", False)
    return _replay({"type": "http.request", "body": b"".join(chunks)}, receive)


async def _drain(receive: Receive, deadline: float) -> None:
    """Read and drop the rest of a refused body (until the deadline), so the client, which
    is still sending, reads our answer instead of a reset connection. Nothing is kept."""
    more = True
    while more:
        try:
            message = await _within(deadline, receive)
        except RequestTimeout:
            return
        more = message["type"] == "http.request" and message.get("more_body", False)


def _replay(first: Message, receive: Receive) -> Receive:
    pending: list[Message] = [first]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed
