"""Tenants are walls (docs/design.md rule 7), on every route the app has, in SQLite and PostgreSQL.

Three projects with planted marker strings; every data-bearing route is asked for one
project's data with every wrong credential (none, another project's token or key, the
project's own token used as a key; as a Bearer header and as the dashboard cookie). Each
answer must be the status the API defines, and hold no byte of another project's data in
its body or headers. A route the app gains must join the probes or the public list below,
with its reason, or `test_every_route_is_probed_or_public_for_a_stated_reason` fails.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from posthog import Posthog
from starlette.routing import Mount

from tests.live import wait_for
from tests.tenancy.probes import PROBES, Answer, Cred, Probe, wrong_credentials
from tests.tenancy.tenants import SHARED_ID, TENANTS, Tenant, Walls, walls_server
from usertrail.settings import Settings
from usertrail.web.app import create_app
from usertrail.web.capture import CAPTURE_PATHS

_CAPTURE = "capture takes a project's public token by design (posthog-js carries it) and only "
_CAPTURE += "writes into that token's project: test_capture_lands_only_in_the_tokens_project"
_CONFIG = "remote config for posthog-js: constant, echoes the token it is sent, reads nothing "
_CONFIG += "(or the token's own PostHog's answer, when it has one)"
_SCHEMA = "the API's schema and its viewers: no data"
_STATIC = "static files shipped with the package"
_DEMO = "the demo app, public by construction: it is fixed to the demo project"
_OPS = "operations: no tenant data (test_public_routes_hold_no_tenant_data)"
PUBLIC: dict[tuple[str, str], str] = {
    **{(m, p + s): _CAPTURE for p in CAPTURE_PATHS for s in ("", "/") for m in ("GET", "POST")},
    **{
        (m, p + s): _CONFIG
        for p in ("/flags", "/decide")
        for s in ("", "/")
        for m in ("GET", "POST")
    },
    **{
        (m, p + s): _CAPTURE + "; /s/ forwards to the token's own PostHog, if it has one"
        for p in ("/s", "/i/v0/ai")
        for s in ("", "/")
        for m in ("GET", "POST")
    },
    ("GET", "/array/{token}/config"): _CONFIG,
    ("GET", "/array/{token}/config.js"): _CONFIG,
    ("GET", "/openapi.json"): _SCHEMA,
    ("GET", "/docs"): _SCHEMA,
    ("GET", "/docs/oauth2-redirect"): _SCHEMA,
    ("GET", "/redoc"): _SCHEMA,
    ("MOUNT", "/ui/assets"): _STATIC,
    ("MOUNT", "/docs/assets"): "Swagger UI's own files, from npm",
    ("MOUNT", "/redoc/assets"): "ReDoc's own files, from npm",
    ("MOUNT", "/demo/static"): _STATIC,
    ("MOUNT", "/static"): "posthog-js's own files, for its lazy extensions",
    ("POST", "/ui/logout"): "clears the dashboard cookie; reads nothing",
    ("GET", "/demo"): _DEMO,
    ("GET", "/demo/{path:path}"): _DEMO,
    ("GET", "/demo/api/webhooks"): _DEMO + " (its inbox holds the demo triggers' webhooks)",
    ("POST", "/demo/webhook-inbox"): _DEMO + " (where the demo's own trigger posts)",
    ("GET", "/healthz"): _OPS,
    ("GET", "/readyz"): _OPS,
    ("GET", "/metrics"): _OPS + "; counts by outcome and kind, never by project",
}
WRONG_PER_TARGET = 11  # none + 2 tokens + 2 keys + own token, then the five values as cookies


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def walls(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Walls]:
    with walls_server(request.param, tmp_path_factory.mktemp(f"walls-{request.param}")) as w:
        yield w


def app_routes(data_dir: Path) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves; a mount is ("MOUNT", its path)."""
    app = create_app(Settings(data_dir=data_dir, demo=True))
    try:
        routes = set()
        for route in iter_route_contexts(app.routes):
            if isinstance(route.original_route, Mount):
                routes.add(("MOUNT", str(route.path)))
            else:
                routes.update((m, str(route.path)) for m in route.methods or () if m != "HEAD")
        return routes
    finally:
        asyncio.run(app.state.runtime.close())


def test_every_route_is_probed_or_public_for_a_stated_reason(tmp_path: Path) -> None:
    routes = app_routes(tmp_path)
    probed = {(p.method, p.path) for p in PROBES}
    assert routes - probed - PUBLIC.keys() == set(), "a route no probe covers and no reason excuses"
    with_node_modules = {
        ("MOUNT", "/static"),
        ("MOUNT", "/docs/assets"),
        ("MOUNT", "/redoc/assets"),
    }
    assert (probed | PUBLIC.keys()) - routes <= with_node_modules
    assert not probed & PUBLIC.keys()


def leaks(answer: Answer, reader: Tenant | None) -> list[str]:
    """Markers of any tenant but `reader` in any body or header (echoes of the request aside)."""
    forbidden = [m for t in TENANTS if t is not reader for m in t.markers if m not in answer.sent]
    seen = b"".join(body + repr(resp.headers.raw).encode() for resp, body in answer.responses)
    return [m for m in forbidden if m.encode() in seen]


def verdict(probe: Probe, cred: Cred, answer: Answer) -> list[str]:
    status = answer.responses[0][0].status_code
    expected = probe.expect(cred)
    problems = [] if status in expected else [f"status {status}, expected {sorted(expected)}"]
    problems += probe.check(probe, cred, answer)
    return problems + [f"leaked {m!r}" for m in leaks(answer, probe.reader(cred))]


def test_no_wrong_credential_reads_another_tenants_data(walls: Walls) -> None:
    failures, cases = [], 0
    with httpx.Client(base_url=walls.url, timeout=5) as client:
        for target in TENANTS:
            for probe in PROBES:
                for cred in wrong_credentials(target):
                    cases += 1
                    client.cookies.clear()  # a successful sign-in's cookie stays with it
                    for problem in verdict(probe, cred, probe.send(client, walls, target, cred)):
                        failures.append(
                            f"{probe.method} {probe.path} [{target.id}, {cred.name}]: {problem}"
                        )
    assert failures == []
    assert cases == len(TENANTS) * len(PROBES) * WRONG_PER_TARGET
    for t in TENANTS:  # and nothing was erased or changed by any of it
        assert t.marker("note") in read_context(walls, t, t.user).text


def read_context(walls: Walls, reader: Tenant, user: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {reader.key}"}
    return httpx.get(f"{walls.url}/context/user/{user}", headers=headers, params={"n": 50})


def _as_unknown(response: httpx.Response, asked: str) -> tuple[int, bytes]:
    return response.status_code, response.content.replace(asked.encode(), b"<id>")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/context/user/{}"),
        ("GET", "/context/user/{}/stream"),
        ("GET", "/actions/user/{}"),
        ("GET", "/ui/api/person/{}"),
        ("GET", "/persons/{}/export"),
        ("DELETE", "/persons/{}"),
        ("GET", "/ui/api/event/{}"),
        ("GET", "/context/group/company/{}"),
    ],
)
def test_a_key_cannot_tell_another_tenants_user_from_an_unknown_one(
    walls: Walls, method: str, path: str
) -> None:
    alpha, beta = TENANTS[:2]
    theirs = walls.note_uuids[beta.id] if "event" in path else beta.user
    unknown = str(uuid.uuid4()) if "event" in path else "nobody-user-zq"
    if "group" in path:
        theirs, unknown = beta.marker("account"), "nobody-account-zq"
    headers = {"Authorization": f"Bearer {alpha.key}"}
    with httpx.Client(base_url=walls.url, headers=headers) as client:
        asked_theirs = client.request(method, path.format(theirs))
        asked_unknown = client.request(method, path.format(unknown))
    assert asked_theirs.status_code == 404
    assert _as_unknown(asked_theirs, theirs) == _as_unknown(asked_unknown, unknown)


def test_a_shared_distinct_id_is_each_tenants_own_person(walls: Walls) -> None:
    for reader in TENANTS:
        body = read_context(walls, reader, SHARED_ID).text
        assert reader.marker("shared") in body
        others = [t.marker("shared") for t in TENANTS if t is not reader]
        assert [m for m in others if m in body] == []


def test_capture_lands_only_in_the_tokens_project(walls: Walls) -> None:
    alpha = TENANTS[0]
    client = Posthog(alpha.token, host=walls.url, sync_mode=True)
    sent = client.capture(
        "marked", distinct_id=SHARED_ID, properties={"note": alpha.marker("late")}
    )
    wait_for(
        lambda: alpha.marker("late") in read_context(walls, alpha, SHARED_ID).text,
        what="alpha's own event in alpha's context",
    )
    for other in TENANTS[1:]:
        assert alpha.marker("late") not in read_context(walls, other, SHARED_ID).text
        raw = httpx.get(
            f"{walls.url}/ui/api/event/{sent}", headers={"Authorization": f"Bearer {other.key}"}
        )
        assert raw.status_code == 404
        assert alpha.marker("late") not in raw.text


@pytest.mark.parametrize("credential", ["key", "none", "other project's webhook secret"])
def test_capture_and_webhooks_refuse_what_is_not_their_credential(
    walls: Walls, credential: str
) -> None:
    alpha, beta = TENANTS[:2]
    event = {"event": "marked", "distinct_id": alpha.user, "properties": {"note": "refused"}}
    envelope = {"batch": [event]} | ({"api_key": alpha.key} if credential == "key" else {})
    secret = {"key": alpha.key, "none": None}.get(credential, beta.secret)
    webhook_headers = {"Authorization": f"Bearer {secret}"} if credential != "none" else {}
    if credential != "other project's webhook secret":
        assert httpx.post(f"{walls.url}/batch/", json=envelope).status_code == 401
        body = {"event": event}
        assert (
            httpx.post(
                f"{walls.url}/webhooks/posthog", json=body, headers=webhook_headers
            ).status_code
            == 401
        )
    else:  # beta's secret is a valid credential: it writes into beta, never into alpha
        body = {"event": {**event, "properties": {"note": beta.marker("late")}}}
        answer = httpx.post(f"{walls.url}/webhooks/posthog", json=body, headers=webhook_headers)
        assert answer.status_code == 200
        # Processed once beta reads it: only then does alpha's not having it prove the wall.
        wait_for(
            lambda: beta.marker("late") in read_context(walls, beta, alpha.user).text,
            what="beta's webhook event in beta's own context",
        )
        assert beta.marker("late") not in read_context(walls, alpha, alpha.user).text


def test_public_routes_hold_no_tenant_data(walls: Walls) -> None:
    alpha = TENANTS[0]
    paths = ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/redoc", "/demo"]
    paths += ["/demo/api/webhooks", "/flags/?v=2", f"/array/{alpha.token}/config"]
    for path in paths:
        response = httpx.get(f"{walls.url}{path}")
        assert response.status_code == 200, path
        answer = Answer([(response, response.content)], sent=path)
        assert leaks(answer, None) == [], path
