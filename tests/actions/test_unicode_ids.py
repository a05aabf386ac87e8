"""Any id within the id rule (core.ids) goes the whole way: capture, context, export,
erasure, and the trigger's webhook and email, whose headers carry it ASCII-safe. The real
server, a real webhook receiver and a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from email.header import decode_header, make_header
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook

from tests.live import API_KEY, TOKEN, LiveServer, wait_for
from tests.receivers import SIGNING_SECRET, MailInbox, WebhookInbox, acting_server
from usertrail.core.context.safe import safe_id
from usertrail.core.ids import is_valid_id

AUTH = {"Authorization": f"Bearer {API_KEY}"}
PROJECT_FILE = """
triggers:
  first_use:
    when: {{event: feature_used}}
    first: true
    actions:
      - email:
          subject: "Welcome, {{{{ person.properties.name }}}}"
          body: "You used a feature."
      - webhook:
          url: {hook}
          secret_env: ACME_WEBHOOK_SECRET
"""
IDS = st.one_of(
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=40),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=20).map(lambda t: f"{t}/é/{t}"),
    st.sampled_from(["josé", "a/b", "100%", "%2F", "..", "😀", "\u202eevil", "x" * 200]),
).filter(lambda t: t == t.strip() and is_valid_id(t))


class Site:
    def __init__(self, server: LiveServer, hooks: WebhookInbox, mail: MailInbox) -> None:
        self.server, self.hooks, self.mail = server, hooks, mail

    def url(self, route: str, distinct_id: str) -> str:
        # Dots too: a client removes `.` and `..` path segments before sending.
        return self.server.url + route.format(quote(distinct_id, safe="").replace(".", "%2E"))

    def hook_for(self, name: str) -> tuple[dict[str, Any], dict[str, str]] | None:
        for received in list(self.hooks.requests):
            payload = Webhook(SIGNING_SECRET).verify(received.body, received.headers)
            if payload["person"]["properties"].get("name") == name:
                return payload, received.headers
        return None

    def mail_for(self, name: str) -> Any:
        subject = f"Welcome, {name}"
        found = [
            m
            for m in self.mail.messages
            if str(make_header(decode_header(m["Subject"]))) == subject
        ]
        return found[0] if found else None


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("unicode-ids")
    with acting_server(tmp, PROJECT_FILE, USERTRAIL_READ_RATE_PER_S="0") as parts:
        yield Site(*parts)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(distinct_id=IDS)
def test_any_id_round_trips_through_capture_context_export_actions_and_erasure(
    site: Site, distinct_id: str
) -> None:
    props = {"$set": {"email": "someone@example.com", "name": distinct_id}}
    event = {"event": "feature_used", "distinct_id": distinct_id, "uuid": str(uuid.uuid4()),
             "properties": props}  # fmt: skip
    captured = httpx.post(f"{site.server.url}/batch/", json={"api_key": TOKEN, "batch": [event]})
    assert captured.status_code == 200, captured.text

    def context() -> httpx.Response:
        return httpx.get(site.url("/context/user/{}", distinct_id), headers=AUTH)

    wait_for(lambda: context().status_code == 200, what="the context")
    # The context shows ids as the model may read them (core.context.safe); export is exact.
    assert safe_id(distinct_id) in context().json()["user"]["distinct_ids"]
    export = httpx.get(site.url("/persons/{}/export", distinct_id), headers=AUTH)
    assert export.status_code == 200
    assert export.json()["person"]["distinct_ids"] == [distinct_id]

    payload, headers = wait_for(lambda: site.hook_for(distinct_id), what="the webhook")
    assert payload["trigger"] == "first_use"
    assert headers["webhook-id"].isascii()
    email = wait_for(lambda: site.mail_for(distinct_id), what="the email")
    assert email["Message-ID"].isascii()
    assert email["X-Usertrail-Idempotency-Key"].isascii()

    erased = httpx.delete(site.url("/persons/{}", distinct_id), headers=AUTH)
    assert erased.status_code == 200, erased.text
    assert context().status_code == 404
