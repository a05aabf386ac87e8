"""The server's log, as an operator reads it: one format for usertrail's lines and the
libraries', JSON when asked, and no routine library chatter at the default level."""

from __future__ import annotations

import io
import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live import API_KEY, LiveServer, wait_for
from usertrail.observability import configure_logging


def send_garbage(server: LiveServer) -> None:
    """uvicorn logs a WARNING of its own for a request it cannot parse."""
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        conn.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        conn.recv(1024)


def post_mcp(server: LiveServer) -> None:
    """A plain JSON-RPC call, as a non-SDK client makes it: mcp logs "Terminating session"."""
    headers = {"Authorization": f"Bearer {API_KEY}", "Accept": "application/json"}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    httpx.post(f"{server.url}/mcp/", json=body, headers=headers, timeout=10)


def lines_of(server: LiveServer) -> list[str]:
    return server.log_path.read_text().splitlines()


@pytest.fixture
def json_server(tmp_path: Path) -> LiveServer:
    env = {"USERTRAIL_LOG_JSON": "1", "USERTRAIL_DEMO": "0"}
    return LiveServer(data_dir=tmp_path / "data", env=env)


def test_with_log_json_every_line_after_the_banner_is_json(json_server: LiveServer) -> None:
    server = json_server.start()
    try:
        httpx.get(f"{server.url}/context/user/nobody", headers={"Authorization": "Bearer no"})
        send_garbage(server)
        post_mcp(server)
        wait_for(lambda: any("Invalid HTTP" in line for line in lines_of(server)), what="log")
    finally:
        server.stop()
    records = [json.loads(line) for line in lines_of(server) if line.startswith("{")]
    banner = [line for line in lines_of(server) if not line.startswith("{")]
    assert all(line.startswith(("usertrail on ", "  ")) for line in banner), banner
    by_logger = {r["logger"]: r for r in records}
    library = by_logger["uvicorn.error"]  # a library's own line, through structlog's renderer
    assert library["level"] == "warning"
    assert library["event"].startswith("Invalid HTTP request")
    assert "timestamp" in library
    assert by_logger["usertrail.web"]["event"] == "request_rejected"


def test_routine_library_lines_are_left_out_below_debug(json_server: LiveServer) -> None:
    server = json_server.start()
    try:
        post_mcp(server)
        post_mcp(server)
        post_mcp(server)
    finally:
        server.stop()
    assert not [line for line in lines_of(server) if "Terminating session" in line]
    assert not [line for line in lines_of(server) if '"logger": "httpx"' in line]


def test_at_debug_library_lines_come_back_in_the_same_format(tmp_path: Path) -> None:
    env = {"USERTRAIL_LOG_JSON": "1", "USERTRAIL_LOG_LEVEL": "debug", "USERTRAIL_DEMO": "0"}
    server = LiveServer(data_dir=tmp_path / "data", env=env).start()
    try:
        post_mcp(server)
    finally:
        server.stop()
    found = [line for line in lines_of(server) if "Terminating session" in line]
    assert found
    assert json.loads(found[0])["logger"].startswith("mcp.")


def test_without_json_lines_are_the_console_renderers(tmp_path: Path) -> None:
    server = LiveServer(data_dir=tmp_path / "data", env={"USERTRAIL_DEMO": "0"}).start()
    try:
        send_garbage(server)
        wait_for(lambda: any("Invalid HTTP" in line for line in lines_of(server)), what="log")
    finally:
        server.stop()
    line = next(line for line in lines_of(server) if "Invalid HTTP" in line)
    # ConsoleRenderer: `2026-12-06T08:30:00.123456Z [warning  ] Invalid HTTP… [uvicorn.error]`
    assert line[:4].isdigit()
    assert "Z [warning" in line
    assert "[uvicorn.error]" in line


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """configure_logging changes process-wide state: put it back for the other tests."""
    import structlog

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers, root.level = handlers, level
    structlog.reset_defaults()


@pytest.mark.usefixtures("restored_logging")
def test_a_librarys_exception_is_one_json_line_with_its_traceback() -> None:
    out = io.StringIO()
    configure_logging("info", json=True, stream=out)
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    (line,) = out.getvalue().splitlines()
    record = json.loads(line)
    assert record["level"] == "error"
    assert "Traceback" in record["exception"]
    assert "ValueError: boom" in record["exception"]
