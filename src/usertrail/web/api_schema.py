"""The routes FastAPI cannot describe itself, added to the OpenAPI schema.

Capture, the webhook, MCP and the ops endpoints are plain Starlette routes (an SDK's body is
decoded leniently, never by a pydantic model), so their contract is written here, with
examples. This only documents them: the routes answer exactly as before.

Every error answer, on every route, is declared as `application/problem+json` with the
`Problem` schema (web.problems builds them): `problem_responses` rewrites each 4xx and 5xx in
the generated schema, FastAPI's own 422 included.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from usertrail.web.capture import CAPTURE_PATHS
from usertrail.web.problems import PROBLEM_JSON, phrase

Json = dict[str, Any]
ERROR = {"$ref": "#/components/schemas/Problem"}
_FIELD_ERROR: Json = {
    "type": "object",
    "properties": {
        "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
        "msg": {"type": "string"},
        "type": {"type": "string"},
    },
    "required": ["loc", "msg", "type"],
}
PROBLEM: Json = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details. `type` is always `about:blank` (the problem "
    "means what its status means); `code` is the stable machine-readable reason.",
    "properties": {
        "type": {"type": "string", "example": "about:blank"},
        "title": {"type": "string", "description": "The HTTP status phrase"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What went wrong, for a person"},
        "instance": {"type": "string", "description": "The request's path"},
        "code": {"type": "string", "example": "unauthorized"},
        "attr": {
            "type": ["string", "null"],
            "description": "422: the first refused field, dotted (PostHog's `attr`)",
        },
        "errors": {"type": "array", "items": _FIELD_ERROR, "description": "422: every field"},
        "problems": {"type": "array", "items": {"type": "string"}, "description": "/readyz"},
    },
    "required": ["type", "title", "status", "detail", "instance", "code"],
}
CAPTURE_OK: Json = {
    "type": "object",
    "properties": {"status": {"type": "integer", "enum": [1]}},
    "required": ["status"],
}
BATCH_EXAMPLE: Json = {
    "api_key": "phc_…",
    "batch": [
        {
            "event": "$pageview",
            "distinct_id": "user_42",
            "uuid": "01933c5e-7f1a-7c3e-9a41-0d6f3c2b1a00",
            "timestamp": "2026-11-22T10:01:02Z",
            "properties": {"$current_url": "https://app.acme.test/settings/billing"},
        }
    ],
}
_EVENT_FIELDS: Json = {
    "event": {"type": "string", "example": "$pageview"},
    "distinct_id": {"type": "string", "example": "user_42"},
    "uuid": {"type": "string", "description": "The dedupe key; derived when missing"},
    "timestamp": {"type": "string", "description": "ISO 8601; corrected with `sent_at`"},
    "properties": {"type": "object", "description": "`token` may carry the project token"},
}
EVENT: Json = {
    "type": "object",
    "description": "A PostHog event. Unknown keys are kept, never refused.",
    "properties": _EVENT_FIELDS,
}
ENVELOPE: Json = {
    "type": "object",
    "description": "One event, or `{api_key|token, batch, sent_at, historical_migration}`.",
    "properties": {
        **_EVENT_FIELDS,
        "api_key": {"type": "string", "description": "The project's public token (phc_…)"},
        "token": {"type": "string", "description": "Same as api_key"},
        "batch": {"type": "array", "items": EVENT, "minItems": 1},
        "sent_at": {"type": "string", "description": "The SDK's clock when sending"},
        "historical_migration": {"type": "boolean"},
    },
}
CAPTURE_BODY: Json = {
    "required": True,
    "description": "PostHog's capture body. Also accepted and not listed here: gzip (by "
    "magic bytes or `Content-Encoding`), form `data=` in base64 or lz-string (`lz64`).",
    "content": {
        "application/json": {
            "schema": {"oneOf": [ENVELOPE, {"type": "array", "items": EVENT, "minItems": 1}]},
            "example": BATCH_EXAMPLE,
        }
    },
}
# Where posthog-js and posthog-python send events; `/s/` takes recordings (forwarded to
# PostHog when one is configured, else captured here).
DOCUMENTED_CAPTURE = (*CAPTURE_PATHS, "/s")


def _json(schema: Json, description: str, example: Any = None) -> Json:
    content: Json = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"description": description, "content": {"application/json": content}}


def _capture_answers() -> Json:
    retry = {"Retry-After": {"schema": {"type": "integer"}}}
    return {
        "200": _json(CAPTURE_OK, "Every event is committed to the raw log", {"status": 1}),
        "400": _json(ERROR, "The body is not a capture payload"),
        "401": _json(ERROR, "No project has this token"),
        "413": _json(ERROR, "Over 1 MB per event or 20 MB per request (decompressed too)"),
        "503": {
            **_json(ERROR, "Storage unavailable or too many commits waiting"),
            "headers": retry,
        },
    }


def capture_paths() -> Json:
    """Each capture path as posthog-js and posthog-python call it (with the trailing slash;
    the path without it answers the same, never a redirect)."""
    return {path + "/": _capture_operations(path) for path in DOCUMENTED_CAPTURE}


def _capture_operations(path: str) -> Json:
    name = path.strip("/").replace("/", "_")
    common = {"tags": ["capture"], "responses": _capture_answers()}
    post = {
        **common,
        "summary": f"PostHog capture ({path}/)",
        "description": "The project's public token travels in the body (`api_key`, `token` "
        "or `properties.token`). Answers as PostHog's own capture does.",
        "operationId": f"capture_{name}",
        "requestBody": CAPTURE_BODY,
    }
    get = {
        **common,
        "summary": f"PostHog capture by GET ({path}/?data=…)",
        "operationId": f"capture_get_{name}",
        "parameters": [
            _query("data", "The capture body, base64 (or lz64 with compression=lz64)", True),
            _query("compression", "base64 (default) or lz64", False),
        ],
    }
    return {"post": post, "get": get}


def _query(name: str, description: str, required: bool) -> Json:
    schema = {"type": "string"}
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


def ai_capture_path() -> Json:
    multipart = {
        "type": "object",
        "properties": {"event": {"type": "string", "description": "The event, as JSON"}},
        "required": ["event"],
    }
    post = {
        "tags": ["capture"],
        "summary": "PostHog LLM analytics capture (multipart)",
        "description": "posthog-python's AI events; the project token as "
        "`Authorization: Bearer phc_…`. Also at `/i/v0/ai/`.",
        "operationId": "capture_ai",
        "requestBody": {"content": {"multipart/form-data": {"schema": multipart}}},
        "responses": _capture_answers(),
    }
    get = {**post, "operationId": "capture_ai_get", "summary": "Same as POST (never used)"}
    del get["requestBody"]
    return {"/i/v0/ai": {"post": post, "get": get}}


def sdk_support_paths() -> Json:
    """What posthog-js asks for besides capture: PostHog's answers when one is configured,
    else usertrail's own (no flags, autocapture on)."""
    token = {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}
    flags = {
        "tags": ["capture"],
        "summary": "Feature flags (PostHog's, else none)",
        "description": "Whatever the SDK sends is passed to PostHog as it is (`?v=2`).",
        "responses": {"200": _json({"type": "object"}, "Flags for this person")},
    }
    config = {
        "tags": ["capture"],
        "summary": "posthog-js remote config (PostHog's, else autocapture on)",
        "parameters": [token],
    }
    js = {
        "200": {
            "description": "The config as a script",
            "content": {"application/javascript": {"schema": {"type": "string"}}},
        }
    }
    return {
        "/flags/": {
            "post": {**flags, "operationId": "flags"},
            "get": {**flags, "operationId": "flags_get"},
        },
        "/decide/": {
            "post": {**flags, "operationId": "decide"},
            "get": {**flags, "operationId": "decide_get"},
        },
        "/array/{token}/config": {
            "get": {
                **config,
                "operationId": "remote_config",
                "responses": {"200": _json({"type": "object"}, "The config")},
            }
        },
        "/array/{token}/config.js": {
            "get": {**config, "operationId": "remote_config_js", "responses": js}
        },
    }


def webhook_path() -> Json:
    body = {
        "description": "PostHog's HTTP Webhook destination, default body",
        "content": {
            "application/json": {
                "schema": {"type": "object"},
                "example": {"event": BATCH_EXAMPLE["batch"][0], "person": {"properties": {}}},
            }
        },
    }
    ok = {
        "type": "object",
        "properties": {
            "status": {"type": "integer"},
            "accepted": {"type": "integer"},
            "duplicates": {"type": "integer"},
        },
    }
    post = {
        "tags": ["capture"],
        "summary": "PostHog HTTP Webhook destination",
        "description": "The webhook secret (`whs_…`) as `Authorization: Bearer`, or in "
        "`X-Usertrail-Secret`. Also at `/webhooks/posthog/`.",
        "operationId": "posthog_webhook",
        "security": [{"WebhookSecret": []}],
        "requestBody": body,
        "responses": {
            "200": _json(ok, "Stored", {"status": 1, "accepted": 1, "duplicates": 0}),
            "400": _json(ERROR, "Not a webhook body"),
            "401": _json(ERROR, "Missing or wrong webhook secret"),
            "413": _json(ERROR, "Too large"),
            "503": _json(ERROR, "Storage unavailable"),
        },
    }
    return {"/webhooks/posthog": {"post": post}}


def ops_paths() -> Json:
    readiness = {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["ready"]},
            "processor": {
                "type": "string",
                "enum": ["standby"],
                "description": "Only when another `usertrail serve` on the same data directory "
                "processes (this one's processor takes over when it ends); `detail` says which",
            },
            "detail": {"type": "string"},
        },
        "required": ["status"],
    }
    metrics_text = {
        "description": "Prometheus text exposition",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
    alive = {"type": "object", "properties": {"status": {"type": "string", "enum": ["ok"]}}}
    return {
        "/healthz": _get("healthz", "The process is up", _json(alive, "Up", {"status": "ok"})),
        "/readyz": _get(
            "readyz",
            "Storage (and the bus, in scale-out) answers",
            _json(readiness, "Ready", {"status": "ready"}),
            {"503": _json(ERROR, "Not ready; `problems` says why")},
        ),
        "/metrics": _get(
            "metrics", "Prometheus metrics (usertrail_*, process_*, python_*)", metrics_text
        ),
    }


def _get(name: str, summary: str, ok: Json, more: Json | None = None) -> Json:
    operation = {"tags": ["ops"], "summary": summary, "operationId": name}
    return {"get": {**operation, "responses": {"200": ok, **(more or {})}}}


def mcp_path() -> Json:
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "get_user_context", "arguments": {"user_id": "user_42"}},
    }
    post = {
        "tags": ["mcp"],
        "summary": "MCP over streamable HTTP (JSON-RPC 2.0)",
        "description": "Tools `get_user_context`, `list_active_users`, `search_help` and the "
        "resource `context://user/{id}`, for MCP clients. Stateless: every call carries the "
        "API key. Send `Accept: application/json, text/event-stream`.",
        "operationId": "mcp",
        "security": [{"ApiKey": []}],
        "requestBody": {
            "content": {"application/json": {"schema": {"type": "object"}, "example": call}}
        },
        "responses": {"200": _json({"type": "object"}, "The JSON-RPC answer")},
    }
    return {"/mcp/": {"post": post}}


def problem_responses(schema: Json) -> None:
    """Every 4xx and 5xx of every operation as problem+json, with an example; FastAPI's
    `HTTPValidationError` schemas, no longer used, are dropped."""
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            for status, answer in operation.get("responses", {}).items():
                if status[0] in "45":
                    content = _problem_content(int(status), answer, path)
                    answer["content"] = {PROBLEM_JSON: content}
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas["Problem"] = PROBLEM


def _problem_content(status: int, answer: Json, path: str) -> Json:
    title = phrase(status)
    example = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": answer.get("description", title),
        "instance": path.replace("{user_id}", "user_42"),
        "code": _EXAMPLE_CODES.get(status, "invalid"),
    }
    return {"schema": ERROR, "example": example}


_EXAMPLE_CODES = {
    400: "bad_payload",
    401: "unauthorized",
    404: "not_found",
    408: "timeout",
    413: "too_large",
    422: "invalid",
    429: "rate_limited",
    503: "storage_unavailable",
}


def install(app: FastAPI) -> None:
    """Serve the generated schema with the hand-written paths and the webhook scheme."""

    def openapi() -> Json:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes, tags=TAGS)
            schema["paths"].update({**capture_paths(), **ai_capture_path(), **webhook_path()})
            schema["paths"].update({**sdk_support_paths(), **mcp_path()})
            schema["paths"].update(ops_paths())
            problem_responses(schema)
            schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
            schemes["WebhookSecret"] = {
                "type": "http",
                "scheme": "bearer",
                "description": "The project's webhook secret (whs_…)",
            }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


TAGS = [
    {"name": "context", "description": "What a user has been doing, for an LLM"},
    {"name": "retrieval", "description": "Help articles ranked with the user's behaviour"},
    {"name": "privacy", "description": "Erase or export a person"},
    {"name": "capture", "description": "PostHog's capture protocol and webhook destination"},
    {"name": "mcp", "description": "Model Context Protocol"},
    {"name": "ops", "description": "Health, readiness and metrics"},
]
