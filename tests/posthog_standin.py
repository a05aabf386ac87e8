"""A PostHog STAND-IN on loopback: PostHog itself cannot run on this machine.

Written from PostHog's own source and docs (capture's endpoints, bodies and answers; `/flags`
v2; remote config; `/static/` assets; the recordings endpoint `/s/`; the query API's request,
answer and paging), it answers as PostHog does for what usertrail sends, records everything it
receives, and can be told to fail: 5xx, 429 with Retry-After, slow answers, a poison event
(400), or refused connections (the server stopped and started again on the same port).

It is not PostHog: the query API runs only the HogQL shape `usertrail import posthog` sends
(a keyset page over `events`), and anything else gets PostHog's 400 for a bad query.
"""

from __future__ import annotations

import asyncio
import bisect
import gzip
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.live import free_port, wait_for

POSTHOG_JS = Path(__file__).parents[1] / "node_modules" / "posthog-js" / "dist"
PERSONAL_API_KEY = "phx_standin_personal_key"
FLAG_KEY = "new-billing-page"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any
    at: float


@dataclass
class Faults:
    status: int | None = None  # answer every capture with this (5xx, 429...)
    retry_after: str | None = None
    delay_s: float = 0.0  # answer capture this late
    poison: str | None = None  # an event name answered 400 (a batch holding it too)
    query_429: int = 0  # answer this many query API calls 429 first
    query_answer: bytes | None = None  # answer query API calls 200 with this body instead


@dataclass
class StandIn:
    tokens: set[str]
    port: int = field(default_factory=free_port)
    history: list[dict[str, Any]] = field(default_factory=list)  # rows for the query API
    faults: Faults = field(default_factory=Faults)
    captured: list[Received] = field(default_factory=list)
    recordings: list[Received] = field(default_factory=list)
    flag_requests: list[Received] = field(default_factory=list)
    queries: list[dict[str, Any]] = field(default_factory=list)
    static_hits: list[str] = field(default_factory=list)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _table: tuple[list[tuple[datetime, str]], list[dict[str, Any]]] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- life -----------------------------------------------------------------------------

    def start(self) -> StandIn:
        config = uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_level="error")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        wait_for(lambda: self._server is not None and self._server.started, what="stand-in")
        return self

    def stop(self) -> None:
        """Down: connections to the port are refused until `start` again."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
        self._server = self._thread = None

    # --- what it received -----------------------------------------------------------------

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [e for r in self.captured for e in r.body["batch"]]

    def uuids(self) -> list[str]:
        return [e["uuid"] for e in self.events()]

    def _events_table(self) -> tuple[list[tuple[datetime, str]], list[dict[str, Any]]]:
        """`history` in (timestamp, uuid) order, as ClickHouse keeps it; sorted once."""
        if self._table is None or len(self._table[1]) != len(self.history):
            rows = sorted(self.history, key=lambda r: (_ts(r["timestamp"]), r["uuid"]))
            self._table = ([(_ts(r["timestamp"]), r["uuid"]) for r in rows], rows)
        return self._table

    # --- the app --------------------------------------------------------------------------

    def app(self) -> Starlette:
        routes = [
            Route(path, self._capture, methods=["POST"])
            for path in ("/batch/", "/e/", "/i/v0/e/", "/capture/", "/i/v0/ai/batch/")
        ]
        routes += [
            Route("/flags/", self._flags, methods=["POST", "GET"]),
            Route("/decide/", self._flags, methods=["POST", "GET"]),
            Route("/array/{token}/config", self._config, methods=["GET"]),
            Route("/array/{token}/config.js", self._config_js, methods=["GET"]),
            Route("/static/{path:path}", self._static, methods=["GET"]),
            Route("/s/", self._recording, methods=["POST"]),
            Route("/api/projects/{project_id}/query/", self._query, methods=["POST"]),
        ]
        # posthog-js calls PostHog cross-origin with credentials: the origin is echoed.
        cors = Middleware(
            CORSMiddleware,
            allow_origin_regex=".*",
            allow_credentials=True,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["*"],
        )
        return Starlette(routes=routes, middleware=[cors])

    async def _capture(self, request: Request) -> Response:
        if self.faults.delay_s:
            await asyncio.sleep(self.faults.delay_s)
        if self.faults.status is not None:
            headers = {"Retry-After": self.faults.retry_after} if self.faults.retry_after else {}
            return JSONResponse({"detail": "stand-in fault"}, self.faults.status, headers)
        body = _envelope(_decode(await request.body(), request.headers.get("content-encoding", "")))
        batch = body.get("batch")
        if not isinstance(batch, list):
            return _capture_error("invalid_payload", "no batch")
        if body.get("api_key") not in self.tokens:
            return JSONResponse(
                {
                    "type": "authentication_error",
                    "code": "invalid_api_key",
                    "detail": "Project API key invalid.",
                },
                401,
            )
        if any(e.get("event") == self.faults.poison for e in batch) or any(
            not _distinct_id(e) for e in batch
        ):
            return _capture_error("invalid_payload", "event refused")
        with self._lock:
            self.captured.append(
                Received(request.url.path, dict(request.headers), body, time.time())
            )
        return JSONResponse({"status": "Ok"})

    async def _flags(self, request: Request) -> Response:
        body = _decode(await request.body(), request.headers.get("content-encoding", ""))
        self.flag_requests.append(
            Received(request.url.path, dict(request.headers), body, time.time())
        )
        flag = {
            "key": FLAG_KEY,
            "enabled": True,
            "variant": None,
            "reason": {
                "code": "condition_match",
                "condition_index": 0,
                "description": "Matched condition set 1",
            },
            "metadata": {"id": 1, "version": 3, "payload": None},
        }
        return JSONResponse(
            {
                **_remote_config(str(body.get("token", ""))),
                "flags": {FLAG_KEY: flag},
                "errorsWhileComputingFlags": False,
                "quotaLimited": [],
                "requestId": "standin-request",
            }
        )

    async def _config(self, request: Request) -> Response:
        return JSONResponse(_remote_config(request.path_params["token"]))

    async def _config_js(self, request: Request) -> Response:
        token = request.path_params["token"]
        config = orjson.dumps({"config": _remote_config(token), "siteApps": []}).decode()
        script = (
            "(function(){window._POSTHOG_REMOTE_CONFIG=window._POSTHOG_REMOTE_CONFIG||{};"
            f"window._POSTHOG_REMOTE_CONFIG[{orjson.dumps(token).decode()}]={config};}})();"
        )
        return Response(script, media_type="application/javascript")

    async def _static(self, request: Request) -> Response:
        name = re.sub(r"^\d+\.\d+\.\d+/", "", request.path_params["path"])
        self.static_hits.append(name)
        path = POSTHOG_JS / name
        if not path.is_file() or ".." in name:
            return PlainTextResponse("not found", 404)
        return FileResponse(path, headers={"X-Served-By": "posthog-standin"})

    async def _recording(self, request: Request) -> Response:
        body = _decode(await request.body(), request.headers.get("content-encoding", ""))
        self.recordings.append(Received(request.url.path, dict(request.headers), body, time.time()))
        return JSONResponse({"status": "Ok"})

    async def _query(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {PERSONAL_API_KEY}":
            return JSONResponse(
                {
                    "type": "authentication_error",
                    "code": "authentication_failed",
                    "detail": "Incorrect authentication credentials.",
                },
                401,
            )
        if self.faults.query_429 > 0:
            self.faults.query_429 -= 1
            return JSONResponse(
                {
                    "type": "throttled_error",
                    "code": "throttled",
                    "detail": "Request was throttled.",
                },
                429,
                {"Retry-After": "1"},
            )
        body = orjson.loads(await request.body())
        self.queries.append(body)
        if self.faults.query_answer is not None:
            return Response(self.faults.query_answer, 200, media_type="text/html")
        query = body.get("query", {})
        page = (
            _run_hogql(query.get("query", ""), *self._events_table())
            if query.get("kind") == "HogQLQuery"
            else None
        )
        if page is None:
            return JSONResponse(
                {
                    "type": "validation_error",
                    "code": "invalid_input",
                    "detail": "Unsupported query (stand-in).",
                },
                400,
            )
        rows, limit = page
        columns = ["uuid", "event", "distinct_id", "timestamp", "properties", "elements_chain"]
        results = [[_column(r, c) for c in columns] for r in rows]
        return JSONResponse(
            {
                "results": results,
                "columns": columns,
                "hasMore": len(rows) == limit,
                "limit": limit,
                "offset": 0,
                "is_cached": False,
            }
        )


def _column(row: dict[str, Any], name: str) -> Any:
    """A row's value as the query API answers it: properties as ClickHouse's JSON text (a
    `str` in `history` is that text already: a row as broken as a test needs it)."""
    value = row[name]
    return (
        orjson.dumps(value).decode()
        if name == "properties" and not isinstance(value, str)
        else value
    )


def _decode(data: bytes, encoding: str) -> Any:
    if data[:2] == b"\x1f\x8b" or "gzip" in encoding:
        data = gzip.decompress(data)
    return orjson.loads(data) if data else {}


def _envelope(body: Any) -> dict[str, Any]:
    """Capture's three shapes (a batch envelope, an array, one event) as an envelope; the token
    from the envelope or the first event, as PostHog's capture finds it."""
    if isinstance(body, dict) and "batch" in body:
        return body
    events = body if isinstance(body, list) else [body]
    first = events[0] if events and isinstance(events[0], dict) else {}
    token = (
        first.get("api_key") or first.get("token") or (first.get("properties") or {}).get("token")
    )
    return {"api_key": token, "batch": events}


def _distinct_id(event: dict[str, Any]) -> Any:
    return event.get("distinct_id") or (event.get("properties") or {}).get("distinct_id")


def _capture_error(code: str, detail: str) -> Response:
    return JSONResponse({"type": "validation_error", "code": code, "detail": detail}, 400)


def _remote_config(token: str) -> dict[str, Any]:
    """PostHog's remote config for a project with recordings and flags on."""
    return {
        "token": token,
        "supportedCompression": ["gzip", "gzip-js"],
        "hasFeatureFlags": True,
        "captureDeadClicks": False,
        "capturePerformance": False,
        "autocapture_opt_out": False,
        "autocaptureExceptions": False,
        "analytics": {"endpoint": "/i/v0/e/"},
        "elementsChainAsString": True,
        "sessionRecording": {
            "endpoint": "/s/",
            "consoleLogRecordingEnabled": True,
            "recorderVersion": "v2",
            "sampleRate": None,
            "minimumDurationMilliseconds": None,
            "linkedFlag": None,
            "networkPayloadCapture": None,
            "urlTriggers": [],
            "urlBlocklist": [],
            "eventTriggers": [],
            "scriptConfig": None,
        },
        "heatmaps": False,
        "surveys": False,
        "defaultIdentifiedOnly": True,
        "siteApps": [],
    }


_KEYSET = re.compile(
    r"timestamp >= toDateTime64\('(?P<since>[^']+)', 6, 'UTC'\)"
    r"(?: AND timestamp < toDateTime64\('(?P<until>[^']+)', 6, 'UTC'\))?"
    r"(?: AND \(timestamp, uuid\) > \(toDateTime64\('(?P<ts>[^']+)', 6, 'UTC'\), "
    r"toUUID\('(?P<uuid>[0-9a-f-]+)'\)\))?"
    r" ORDER BY timestamp ASC, uuid ASC LIMIT (?P<limit>\d+)"
)


def _run_hogql(
    text: str, keys: list[tuple[datetime, str]], rows: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], int] | None:
    match = _KEYSET.search(text)
    if not text.startswith("SELECT uuid, event, distinct_id, timestamp, properties") or not match:
        return None
    since = (_ts(match["since"]), "")
    start = bisect.bisect_right(keys, (_ts(match["ts"]), match["uuid"])) if match["ts"] else 0
    start = max(start, bisect.bisect_left(keys, since))
    stop = bisect.bisect_left(keys, (_ts(match["until"]), "")) if match["until"] else len(keys)
    limit = min(int(match["limit"]), 50_000)
    return rows[start : min(stop, start + limit)], limit


def _ts(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)
