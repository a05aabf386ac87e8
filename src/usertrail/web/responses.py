"""JSON answers. Errors are problem details, built in web.problems."""

from __future__ import annotations

import orjson
from starlette.responses import Response

CAPTURE_OK = b'{"status":1}'


def json_response(
    content: object, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(content), status_code=status, media_type="application/json", headers=headers
    )
