"""A real usertrail on loopback with the demo's project file (so help articles exist), and a
user whose events came in through posthog-python."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from posthog import Posthog

from tests.live import API_KEY, TOKEN, LiveServer, wait_for
from usertrail.client import NotFound, Usertrail
from usertrail.demo.project import DEMO_PROJECT_FILE

USER = "user_42"
ODD_USER = "ops #1?x=&y%"  # characters a query string or fragment would take for its own
REPORT_PAGE = {"$current_url": "https://app.acme.test/reports/7"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"USERTRAIL_DEMO": "0", "USERTRAIL_READ_RATE_PER_S": "0"}
    args = ["--project-file", str(DEMO_PROJECT_FILE)]
    live = LiveServer(tmp_path_factory.mktemp("client") / "data", env=env, args=args).start()
    sdk = Posthog(TOKEN, host=live.url, sync_mode=True)
    for user in (USER, ODD_USER):
        sdk.capture("$pageview", distinct_id=user, properties=REPORT_PAGE)
    sdk.capture("report_exported", distinct_id=USER, properties={"format": "csv"})
    with Usertrail(live.url, API_KEY) as client:
        wait_for(lambda: _events(client, USER) == 2 and _events(client, ODD_USER), what="events")
    yield live
    live.stop()


def _events(client: Usertrail, user: str) -> int:
    try:
        return len(client.user_context(user).recent_events)
    except NotFound:
        return 0
