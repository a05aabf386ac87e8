"""What the front ends (web/ and the MCP server) are given: services and read ports.

Not the runtime: its engine, writer, log, bus and leader locks stay behind the composition
root, so a handler reaches storage only through a service or a port (ports.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from usertrail.core.relay import Target
from usertrail.model.config import ProjectConfig
from usertrail.model.project import Project
from usertrail.observability import Metrics
from usertrail.ports import ActionLog, Browse, PersonReads, ProjectRegistry, Proxy, RelayLog
from usertrail.retrieval.service import HelpService
from usertrail.services.account import AccountService
from usertrail.services.context import ContextService
from usertrail.services.ingest import IngestService
from usertrail.services.live import LiveUpdates
from usertrail.services.privacy import PrivacyService
from usertrail.services.relay import RelayService, RelayStatus
from usertrail.settings import Settings

if TYPE_CHECKING:
    from usertrail.wiring import Runtime


@dataclass(frozen=True, kw_only=True)
class Services:
    settings: Settings
    metrics: Metrics
    clock: Callable[[], datetime]
    config_for: Callable[[str], ProjectConfig]
    readiness: Callable[[], Awaitable[list[str]]]
    # `serve`'s processor stands by (another `serve` on the data processes): that one's pid.
    processor_standby: Callable[[], int | None]
    metrics_exposition: Callable[[], Awaitable[bytes]]
    relay_status: Callable[[], Awaitable[RelayStatus | None]]
    posthog_target: Callable[[Project], Target | None]
    default_project: Project
    demo_project: Project | None
    ingest: IngestService
    context: ContextService
    privacy: PrivacyService
    accounts: AccountService
    assistant: HelpService
    live: LiveUpdates
    relay: RelayService | None
    projects: ProjectRegistry
    outbox: ActionLog
    browse: Browse
    store: PersonReads
    relay_state: RelayLog | None
    proxy: Proxy | None

    @classmethod
    def of(cls, rt: Runtime) -> Services:
        return cls(
            settings=rt.settings,
            metrics=rt.metrics,
            clock=rt.clock,
            config_for=rt.config_for,
            readiness=rt.readiness,
            processor_standby=rt.processor_standby,
            metrics_exposition=rt.metrics_exposition,
            relay_status=rt.relay_status,
            posthog_target=rt.posthog_target,
            default_project=rt.default_project,
            demo_project=rt.demo_project,
            ingest=rt.ingest,
            context=rt.context,
            privacy=rt.privacy,
            accounts=rt.accounts,
            assistant=rt.assistant,
            live=rt.live,
            relay=rt.relay,
            projects=rt.projects,
            outbox=rt.outbox,
            browse=rt.browse,
            store=rt.store,
            relay_state=rt.relay_state,
            proxy=rt.proxy,
        )
