"""HTML pages rendered on the server with Jinja (autoescaped: user strings are never markup).

Pages hand state to their script as `{{ value | tojson }}` in a `<script type="application/json">`
tag: `tojson` escapes <, >, & and ', so no value can close the tag.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from starlette.responses import HTMLResponse

_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
# For pages whose scripts and styles are all our own files (the dashboard, not the demo,
# where posthog-js may add its own): a second wall behind escaping.
SELF_ONLY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


@cache
def _environment(directory: Path) -> Environment:
    return Environment(loader=FileSystemLoader(directory), autoescape=True)


def render_page(
    directory: Path, name: str, status: int = 200, csp: str | None = None, **values: Any
) -> HTMLResponse:
    html = _environment(directory).get_template(name).render(**values)
    headers = {**_HEADERS, "Content-Security-Policy": csp} if csp else _HEADERS
    return HTMLResponse(html, status_code=status, headers=headers)
