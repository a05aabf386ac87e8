"""Every error is an RFC 9457 problem (application/problem+json), built in web.problems: the
service's own refusals, FastAPI's 422, Starlette's 404 and 405, any HTTPException, a crash.
In process (TestClient), so a route can be added that fails on purpose."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from tests.live import API_KEY, TOKEN
from usertrail.settings import Settings
from usertrail.web.app import create_app

AUTH = {"Authorization": f"Bearer {API_KEY}"}
MEMBERS = {"type", "title", "status", "detail", "instance", "code"}
BURST = 3


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("problems"),
        demo=False,
        project_token=TOKEN,
        api_key=API_KEY,
        read_rate_per_s=0.01,
        read_burst=BURST,
    )
    app = create_app(settings)
    _add_failing_routes(app)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _add_failing_routes(app: FastAPI) -> None:
    async def refuse(request: Request) -> Response:
        raise HTTPException(int(request.path_params["status"]))

    async def crash(request: Request) -> Response:
        raise RuntimeError("secret-7f3a in the exception text")

    app.add_route("/test-only/refuse/{status:int}", refuse, methods=["GET"])
    app.add_route("/test-only/crash", crash, methods=["GET"])


def problem_of(response: httpx2.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body.keys() >= MEMBERS, body
    assert (body["type"], body["status"]) == ("about:blank", status)
    assert body["detail"]
    assert body["title"]
    return body


def test_a_missing_key_is_a_401_problem_naming_the_path(client: TestClient) -> None:
    body = problem_of(client.get("/actions/user/someone"), 401)
    assert (body["title"], body["code"]) == ("Unauthorized", "unauthorized")
    assert body["instance"] == "/actions/user/someone"


def test_the_instance_is_the_path_as_sent_without_the_query(client: TestClient) -> None:
    body = problem_of(client.get("/actions/user/a%20b?n=1"), 401)
    assert body["instance"] == "/actions/user/a%20b"


def test_an_unknown_user_is_a_404_problem(client: TestClient) -> None:
    body = problem_of(client.get("/persons/nobody/export", headers=AUTH), 404)
    assert body["code"] == "not_found"
    assert "nobody" in body["detail"]


def test_an_unknown_path_is_a_404_problem(client: TestClient) -> None:
    body = problem_of(client.get("/no/such/page"), 404)
    assert (body["title"], body["code"]) == ("Not Found", "not_found")


def test_a_method_a_route_does_not_take_is_a_405_problem_with_allow(client: TestClient) -> None:
    response = client.put("/healthz")
    body = problem_of(response, 405)
    assert body["code"] == "method_not_allowed"
    assert "GET" in response.headers["allow"]


def test_a_422_lists_each_refused_field_and_names_the_first_in_attr(client: TestClient) -> None:
    marker = "marker-not-echoed"
    answer = client.post("/retrieve", json={"user_id": "u", "k": marker}, headers=AUTH)
    body = problem_of(answer, 422)
    assert body["code"] == "invalid"
    fields = {tuple(e["loc"]) for e in body["errors"]}
    assert fields == {("body", "query"), ("body", "k")}
    assert body["attr"] in ("body.query", "body.k")
    assert "body.query: Field required" in body["detail"]
    assert body["title"] == "Unprocessable Content"  # RFC 9110's name
    assert marker not in answer.text


def test_a_capture_refusal_keeps_the_detail_posthog_python_reads(client: TestClient) -> None:
    body = problem_of(client.post(f"/e/?token={TOKEN}", content=b"[1]"), 400)
    assert body["code"] == "bad_payload"
    event = {"event": "e", "distinct_id": "d"}
    problem_of(client.post("/batch/", json={"api_key": "phc_nobody", "batch": [event]}), 401)


def test_a_body_past_the_limit_is_a_413_problem(client: TestClient) -> None:
    body = problem_of(client.post("/retrieve", content=b"x" * 300_000, headers=AUTH), 413)
    assert body["code"] == "too_large"


def test_the_mcp_stream_refusal_is_a_405_problem(client: TestClient) -> None:
    problem_of(client.get("/mcp/", headers=AUTH), 405)


def test_a_refused_cors_preflight_is_a_problem_with_its_cors_headers(
    client: TestClient,
) -> None:
    ask = {"Origin": "https://app.acme.test", "Access-Control-Request-Method": "PATCH"}
    response = client.options("/persons/someone", headers=ask)
    body = problem_of(response, 400)
    assert body["detail"] == "Disallowed CORS method"
    assert response.headers["access-control-allow-origin"] == "https://app.acme.test"
    allowed = client.options(
        "/context/user/u", headers={**ask, "Access-Control-Request-Method": "GET"}
    )
    assert allowed.status_code == 200


@pytest.mark.parametrize("status", [400, 403, 409, 415, 503])
def test_any_http_exception_becomes_a_problem(client: TestClient, status: int) -> None:
    body = problem_of(client.get(f"/test-only/refuse/{status}"), status)
    assert body["instance"] == f"/test-only/refuse/{status}"


def test_a_crash_is_a_500_problem_that_tells_nothing_of_the_exception(
    client: TestClient,
) -> None:
    response = client.get("/test-only/crash")
    body = problem_of(response, 500)
    assert body["code"] == "internal"
    assert "secret-7f3a" not in response.text


def test_reads_over_the_limit_are_a_429_problem_with_retry_after(client: TestClient) -> None:
    answers = [client.get("/context/user/nobody", headers=AUTH) for _ in range(BURST + 1)]
    body = problem_of(answers[-1], 429)
    assert body["code"] == "rate_limited"
    assert int(answers[-1].headers["retry-after"]) >= 1


def test_the_schema_declares_every_error_as_problem_json(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    declared = 0
    for operations in spec["paths"].values():
        for operation in operations.values():
            for status, answer in operation["responses"].items():
                if status[0] in "45":
                    assert list(answer["content"]) == ["application/problem+json"], status
                    declared += 1
    assert declared > 50
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert spec["components"]["schemas"]["Problem"]["required"][:3] == ["type", "title", "status"]


def test_not_ready_is_a_503_problem_listing_the_problems(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, demo=False))

    async def broken() -> list[str]:
        return ["storage: database is locked"]

    app.state.runtime.readiness = broken
    with TestClient(app) as test_client:
        response = test_client.get("/readyz")
    body = problem_of(response, 503)
    assert (body["code"], body["problems"]) == ("not_ready", ["storage: database is locked"])
    assert response.headers["retry-after"] == "5"
