"""The demo tenant: project id `demo`, configured by the Acme project file shipped here.

The demo page shows context without a secret, so it only ever reads this project.
"""

from __future__ import annotations

from pathlib import Path

from usertrail.model.config import ProjectConfig
from usertrail.project_file import parse_project_file

DEMO_PROJECT_ID = "demo"
DEMO_PROJECT_NAME = "Acme Reports (demo)"
DEMO_PROJECT_FILE = Path(__file__).with_name("acme.usertrail.yaml")
# The file names `usertrail serve`'s default address, so it validates and reads as-is.
FILE_ORIGIN = "http://127.0.0.1:8000"
# When set (a `whsec_…` secret), the demo's webhook inbox verifies Standard Webhooks signatures.
SIGNING_SECRET_ENV = "ACME_WEBHOOK_SECRET"


def demo_config(base_url: str) -> ProjectConfig:
    """The Acme file with its webhook pointed at this server's own inbox: a server on another
    port (the tests take a free one) rewrites the file's origin to its own."""
    text = DEMO_PROJECT_FILE.read_text(encoding="utf-8")
    text = text.replace(FILE_ORIGIN + "/", base_url.rstrip("/") + "/")
    return parse_project_file(text, source=str(DEMO_PROJECT_FILE))


def loopback_url(host: str, port: int) -> str:
    """How this server reaches itself: a wildcard bind address is not a destination."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"
