"""Real receivers on loopback for action tests: an HTTP webhook inbox and an SMTP server."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from tests.live import LiveServer, free_port

SIGNING_SECRET = "whsec_" + base64.b64encode(b"usertrail-test-signing-secret!!").decode()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookInbox:
    """Answers `status` (changeable while running) and records every request."""

    status: int = 200
    requests: list[Received] = field(default_factory=list)
    url: str = ""


@contextmanager
def webhook_inbox() -> Iterator[WebhookInbox]:
    inbox = WebhookInbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            inbox.requests.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(inbox.status)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    inbox.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield inbox
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class MailInbox:
    port: int
    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@contextmanager
def mail_inbox() -> Iterator[MailInbox]:
    inbox = MailInbox(port=free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@contextmanager
def acting_server(
    tmp: Path, project_file: str, **env: str
) -> Iterator[tuple[LiveServer, WebhookInbox, MailInbox]]:
    """A live server whose triggers reach a real webhook inbox and a real SMTP server.
    `project_file` names the inbox's url `{hook}`; its webhooks sign with SIGNING_SECRET as
    ACME_WEBHOOK_SECRET; `env` adds settings."""
    with webhook_inbox() as hooks, mail_inbox() as mail:
        path = tmp / "project.yaml"
        path.write_text(project_file.format(hook=hooks.url))
        server = LiveServer(
            data_dir=tmp / "data",
            env={
                "USERTRAIL_PROJECT_FILE": str(path),
                "USERTRAIL_SMTP_HOST": "127.0.0.1",
                "USERTRAIL_SMTP_PORT": str(mail.port),
                "USERTRAIL_ACTION_RETRY_BASE_S": "0.2",
                "ACME_WEBHOOK_SECRET": SIGNING_SECRET,
                **env,
            },
        ).start()
        try:
            yield server, hooks, mail
        finally:
            server.stop()
