"""schemathesis against the app's own OpenAPI schema, on a real server with data in it.

Covered: every operation the schema documents (context, actions, retrieval, privacy requests,
dashboard data, capture by POST, the webhook, flags and remote config, the ops endpoints), with
the Bearer key and without, except those in NOT_FUZZED, each covered elsewhere for the reason
given there.

schemathesis runs as its CLI: its pytest loader for fixtures does not work with pytest 9.2
(it sets the removed `Node._nodeid`).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from posthog import Posthog

from tests.live import API_KEY, TOKEN, LiveServer

AUTH = {"Authorization": f"Bearer {API_KEY}"}
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# operationId pattern -> why schemathesis does not generate requests for it.
NOT_FUZZED = {
    r".*_stream_get": "SSE streams never end; their 401 is checked below",
    r"capture_get_.*": "GET capture carries a base64/lz64 `data=` body no generator makes "
    "valid; tests/corpus and tests/web/test_capture_sdks.py send real SDK requests",
    r"capture_ai.*": "a multipart body with a JSON event part; tests/core/test_ai_capture.py "
    "and the posthog-python AI tests send real ones",
    r"mcp": "JSON-RPC: a missing key is a tool error inside a 200, as MCP specifies; "
    "tests/web/test_mcp.py drives it with the official SDK client",
}
NOT_FUZZED_RE = "^(" + "|".join(NOT_FUZZED) + ")$"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # No read limit here: schemathesis reads faster than a chatbot (test_read_limits.py).
    env = {"USERTRAIL_READ_RATE_PER_S": "0", "USERTRAIL_DEMO": "0"}
    live = LiveServer(data_dir=tmp_path_factory.mktemp("openapi") / "data", env=env).start()
    client = Posthog(TOKEN, host=live.url, sync_mode=True)
    client.capture("$pageview", distinct_id="user_42", properties={"$current_url": "/billing"})
    deadline = time.monotonic() + 10
    while httpx.get(f"{live.url}/context/user/user_42", headers=AUTH).status_code != 200:
        assert time.monotonic() < deadline, "the seeded user never showed up"
        time.sleep(0.05)
    yield live
    live.stop()


@pytest.mark.timeout(300)
def test_the_read_api_answers_as_its_schema_says(server: LiveServer, tmp_path: Path) -> None:
    """Every check: no 5xx; documented statuses, content types and headers; bodies that match
    their schemas; invalid input refused; and `ignored_auth`: a 2xx with the key becomes a 401
    without it or with a wrong one. Seeded, so a run is repeatable.

    One worker: with two, schemathesis's threads both reach hypothesis's lambda descriptions,
    whose concurrent `ast.parse` on CPython 3.11 can fail with a spurious "AST constructor
    recursion depth mismatch" SystemError (python/cpython#106905). It failed one CI run so."""
    run = subprocess.run(
        [
            str(SCHEMATHESIS), "run", f"{server.url}/openapi.json",
            "--header", f"Authorization: Bearer {API_KEY}",
            "--exclude-operation-id-regex", NOT_FUZZED_RE,
            "--checks", "all",
            "--max-examples", "30",
            "--seed", "9",
            "--workers", "1",
            "--generation-database", "none",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,  # whatever it keeps on disk stays out of the checkout
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    fuzzed = [op for op in operation_ids(server) if not re.fullmatch(NOT_FUZZED_RE, op)]
    assert f"Selected: {len(fuzzed)}/{len(operation_ids(server))}" in run.stdout
    assert any(op.startswith("capture_") for op in fuzzed)  # capture is in the run


def operation_ids(server: LiveServer) -> list[str]:
    spec = httpx.get(f"{server.url}/openapi.json").json()
    return [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]


def documented_operations(server: LiveServer) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(method, path, body) for every operation the schema says needs a key or secret (MCP
    aside: NOT_FUZZED says why), with valid parameters."""
    spec = httpx.get(f"{server.url}/openapi.json").json()
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if not operation.get("security") or operation["operationId"] == "mcp":
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            example = _example(spec, body) if body else None
            found.append((method.upper(), path.replace("{user_id}", "user_42"), example))
    return found


def _example(spec: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    if "example" in body:
        example: dict[str, Any] = body["example"]
        return example
    name = body["schema"]["$ref"].rsplit("/", 1)[-1]
    examples: list[dict[str, Any]] = spec["components"]["schemas"][name]["examples"]
    return examples[0]


@pytest.mark.parametrize("key", [None, "utk_wrong", TOKEN], ids=["no-key", "wrong-key", "token"])
def test_every_documented_operation_is_401_without_its_key(
    server: LiveServer, key: str | None
) -> None:
    """Streams included: they must refuse before they start streaming."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    operations = documented_operations(server)
    assert len(operations) >= 10
    assert "/webhooks/posthog" in [path for _, path, _ in operations]
    for method, path, body in operations:
        response = httpx.request(
            method, f"{server.url}{path}", json=body, headers=headers, timeout=5
        )
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["code"] == "unauthorized"


def test_the_schema_documents_capture_the_webhook_mcp_and_ops(server: LiveServer) -> None:
    spec = httpx.get(f"{server.url}/openapi.json").json()
    for path in ("/e/", "/batch/", "/i/v0/ai", "/s/", "/webhooks/posthog", "/mcp/", "/flags/"):
        assert path in spec["paths"], path
    for path in ("/healthz", "/readyz", "/metrics", "/array/{token}/config"):
        assert path in spec["paths"], path
    batch = spec["paths"]["/batch/"]["post"]["requestBody"]["content"]["application/json"]
    assert batch["example"]["batch"][0]["event"] == "$pageview"
    webhook = spec["paths"]["/webhooks/posthog"]["post"]
    assert webhook["security"] == [{"WebhookSecret": []}]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_api_viewers_load_only_from_this_server(server: LiveServer, page: str) -> None:
    """The browser test renders them offline; this holds the same line without a browser."""
    answer = httpx.get(f"{server.url}{page}")
    links = re.findall(r'(?:src|href)="([^"]+)"', answer.text)
    assert links
    assert [link for link in links if not link.startswith("/")] == []
    for link in links:
        assert httpx.get(f"{server.url}{link}").status_code == 200, link
    assert "default-src 'self'" in answer.headers["content-security-policy"]
