"""One probe per data-bearing route: a request for the target tenant's data, and the answer
the API defines for each credential.

A credential is a value sent one way (a Bearer header, or the dashboard cookie). It counts as
a key only if it is some project's API key and the route reads it that way; the answer may
then hold that project's data and nothing else.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.tenancy.tenants import TENANTS, Tenant, Walls

COOKIE = "usertrail_key"
SSE_WAIT_S = 1.5  # the first frame of a stream comes at once; a hung stream fails the probe


@dataclass(frozen=True)
class Cred:
    name: str
    value: str | None
    owner: Tenant | None  # the project whose API key `value` is, if it is one
    cookie: bool = False  # sent as the dashboard cookie instead of a Bearer header

    def headers(self) -> dict[str, str]:
        if self.value is None:
            return {}
        if self.cookie:
            return {"Cookie": f"{COOKIE}={self.value}"}
        return {"Authorization": f"Bearer {self.value}"}


def wrong_credentials(target: Tenant) -> list[Cred]:
    """None, each other project's token and key, the target's own token used as a key; each
    as a Bearer header and as the dashboard cookie."""
    plain = [Cred("none", None, None)]
    for other in TENANTS:
        if other is not target:
            plain.append(Cred(f"{other.id} token", other.token, None))
            plain.append(Cred(f"{other.id} key", other.key, other))
    plain.append(Cred(f"{target.id}'s token as key", target.token, None))
    cookies = [Cred(f"{c.name} (cookie)", c.value, c.owner, cookie=True) for c in plain[1:]]
    return plain + cookies


@dataclass
class Answer:
    """What a probe saw: every response involved (a login also follows its redirect)."""

    responses: list[tuple[httpx.Response, bytes]] = field(default_factory=list)
    sent: str = ""  # what the request itself carried (echoes of it are not leaks)


Check = Callable[["Probe", Cred, Answer], list[str]]


def no_check(_probe: Probe, _cred: Cred, _answer: Answer) -> list[str]:
    return []


@dataclass(frozen=True)
class Probe:
    method: str
    path: str  # the route's path template, as the app declares it
    send: Callable[[httpx.Client, Walls, Tenant, Cred], Answer]
    expect: Callable[[Cred], set[int]]
    cookie_ok: bool = False  # the dashboard routes read the cookie too
    reads_key: bool = True  # False: the route takes no API key (demo, webhook secret)
    check: Check = no_check  # what else the answer must be
    lists: bool = False  # a project-wide listing: a key gets its own project's list

    def reader(self, cred: Cred) -> Tenant | None:
        """Whose data the answer may hold."""
        readable = self.reads_key and (not cred.cookie or self.cookie_ok)
        return cred.owner if readable else None


def rejected_unless_key(found: int) -> Callable[[Cred], set[int]]:
    return lambda cred: {found} if cred.owner and not cred.cookie else {401}


def dashboard(found: int) -> Callable[[Cred], set[int]]:
    return lambda cred: {found} if cred.owner else {401}


def always(status: int) -> Callable[[Cred], set[int]]:
    return lambda _cred: {status}


def get(path: str, stream: bool = False) -> Callable[[httpx.Client, Walls, Tenant, Cred], Answer]:
    def send(client: httpx.Client, walls: Walls, t: Tenant, cred: Cred) -> Answer:
        url = path.format(user=t.user, uuid=walls.note_uuids[t.id], group=t.marker("account"))
        request = client.build_request("GET", url, headers=cred.headers())
        return Answer([read(client, request, stream)], sent=url)

    return send


def send_json(
    method: str, path: str, body: Callable[[Tenant], dict[str, Any]]
) -> Callable[[httpx.Client, Walls, Tenant, Cred], Answer]:
    def send(client: httpx.Client, walls: Walls, t: Tenant, cred: Cred) -> Answer:
        url, payload = path.format(user=t.user), body(t)
        request = client.build_request(method, url, json=payload, headers=cred.headers())
        return Answer([read(client, request)], sent=url + repr(payload))

    return send


def read(
    client: httpx.Client, request: httpx.Request, stream: bool = False
) -> tuple[httpx.Response, bytes]:
    """The whole body, or for a 200 stream its first frame (then hang up)."""
    response = client.send(request, stream=True)
    try:
        if not (stream and response.status_code == 200):
            return response, response.read()
        body, deadline = b"", time.monotonic() + SSE_WAIT_S
        for chunk in response.iter_raw():
            body += chunk
            if b"\n\n" in body or time.monotonic() > deadline:
                break
        assert b"\n\n" in body, f"no first frame from {request.url}"
        return response, body
    finally:
        response.close()


def login(client: httpx.Client, walls: Walls, t: Tenant, cred: Cred) -> Answer:
    """The dashboard's sign-in; a successful one is followed into the target's data."""
    form = {"api_key": cred.value} if cred.value else {}
    answer = Answer([read(client, client.build_request("POST", "/ui/login", data=form))])
    response = answer.responses[0][0]
    if response.status_code == 303:
        signed_in = Cred("signed in", cred.value, cred.owner, cookie=True)
        answer.responses.append(
            read(client, client.build_request("GET", "/ui", headers=signed_in.headers()))
        )
        person = client.build_request(
            "GET", f"/ui/api/person/{t.user}", headers=signed_in.headers()
        )
        answer.responses.append(read(client, person))
        assert answer.responses[-1][0].status_code == 404, "a signed-in key read another's person"
    answer.sent = f"/ui/api/person/{t.user}"
    return answer


def mcp(name: str, arguments: Callable[[Tenant], dict[str, Any]]) -> Callable[..., Answer]:
    method = "resources/read" if name == "resource" else "tools/call"

    def send(client: httpx.Client, walls: Walls, t: Tenant, cred: Cred) -> Answer:
        args = arguments(t)
        params = args if name == "resource" else {"name": name, "arguments": args}
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        headers = {**cred.headers(), "Accept": "application/json, text/event-stream"}
        request = client.build_request("POST", "/mcp/", json=body, headers=headers)
        return Answer([read(client, request)], sent=repr(args))

    return send


def mcp_refused(probe: Probe, cred: Cred, answer: Answer) -> list[str]:
    """Without a valid key, 401 before any MCP exchange (web.guard); with one, another
    tenant's data is refused in JSON-RPC: an error, or a tool result marked so. Only a
    listing, asked with a key, answers (with that key's own project)."""
    response = answer.responses[0][0]
    reply = response.json()
    refused = (
        response.status_code == 401
        or "error" in reply
        or reply.get("result", {}).get("isError") is True
    )
    if probe.lists and probe.reader(cred) is not None:
        return [] if not refused else ["a valid key's own listing was refused"]
    return [] if refused else ["MCP answered instead of refusing"]


def sign_in_page(probe: Probe, cred: Cred, answer: Answer) -> list[str]:
    """/ui: the sign-in form without a valid key, that key's own dashboard with one."""
    body = answer.responses[0][1]
    reader = probe.reader(cred)
    if reader is None:
        return [] if b'name="api_key"' in body else ["no sign-in form"]
    return [] if reader.id.title().encode() in body else ["not the key's own dashboard"]


def waiting(_probe: Probe, _cred: Cred, answer: Answer) -> list[str]:
    """The demo's stream knows nobody outside the demo project: it waits for them."""
    return [] if answer.responses[0][1].startswith(b"event: waiting") else ["not waiting"]


def _query(t: Tenant) -> dict[str, Any]:
    return {"user_id": t.user, "query": "why did it fail?"}


def _message(t: Tenant) -> dict[str, Any]:
    return {"user_id": t.user, "message": "why did it fail?"}


def _event(t: Tenant) -> dict[str, Any]:
    return {"event": {"event": "marked", "distinct_id": t.user, "properties": {"note": "x"}}}


PROBES = (
    Probe(
        "GET", "/context/user/{user_id:path}", get("/context/user/{user}"), rejected_unless_key(404)
    ),
    Probe(
        "GET",
        "/context/user/{user_id:path}/stream",
        get("/context/user/{user}/stream", stream=True),
        rejected_unless_key(404),
    ),
    Probe(
        "GET",
        "/context/group/{group_type}/{group_key:path}",
        get("/context/group/company/{group}"),
        rejected_unless_key(404),
    ),
    Probe(
        "GET", "/actions/user/{user_id:path}", get("/actions/user/{user}"), rejected_unless_key(404)
    ),
    Probe("POST", "/retrieve", send_json("POST", "/retrieve", _query), rejected_unless_key(404)),
    Probe("POST", "/assist", send_json("POST", "/assist", _message), rejected_unless_key(404)),
    Probe(
        "DELETE",
        "/persons/{user_id:path}",
        send_json("DELETE", "/persons/{user}", lambda _t: {}),
        rejected_unless_key(404),
    ),
    Probe(
        "GET",
        "/persons/{user_id:path}/export",
        get("/persons/{user}/export"),
        rejected_unless_key(404),
    ),
    Probe("GET", "/ui/api/active", get("/ui/api/active"), dashboard(200), True, lists=True),
    Probe(
        "GET", "/ui/api/person/{user_id:path}", get("/ui/api/person/{user}"), dashboard(404), True
    ),
    Probe("GET", "/ui/api/event/{uuid}", get("/ui/api/event/{uuid}"), dashboard(404), True),
    Probe("GET", "/ui/api/relay", get("/ui/api/relay"), dashboard(200), True),
    Probe(
        "GET",
        "/ui/api/stream",
        get("/ui/api/stream", stream=True),
        dashboard(200),
        cookie_ok=True,
        lists=True,
    ),
    Probe("GET", "/ui", get("/ui"), always(200), cookie_ok=True, check=sign_in_page),
    Probe("POST", "/ui/login", login, lambda c: {303} if c.owner else {401}, cookie_ok=True),
    *(
        Probe(
            "POST",
            path,
            send_json("POST", path, _event),
            always(401),
            reads_key=False,  # it takes the webhook secret: no token or key is one
        )
        for path in ("/webhooks/posthog", "/webhooks/posthog/")
    ),
    Probe(
        "GET",
        "/demo/api/context/{distinct_id:path}",
        get("/demo/api/context/{user}"),
        always(404),
        reads_key=False,  # the demo project only, whatever is sent
    ),
    Probe(
        "GET",
        "/demo/api/context/{distinct_id:path}/stream",
        get("/demo/api/context/{user}/stream", stream=True),
        always(200),
        reads_key=False,
        check=waiting,
    ),
    *(
        # No valid key: a 401 at connect (its body a JSON-RPC error); another tenant's key:
        # HTTP 200 and a refusal in JSON-RPC.
        Probe(
            "MOUNT",
            "/mcp",
            mcp(name, args),
            rejected_unless_key(200),
            check=mcp_refused,
            lists=listing,
        )
        for name, args, listing in (
            ("get_user_context", lambda t: {"user_id": t.user}, False),
            ("search_help", _query, False),
            ("resource", lambda t: {"uri": f"context://user/{t.user}"}, False),
            ("list_active_users", lambda _t: {"minutes": 600}, True),
        )
    ),
)
