"""The one composition root: settings -> adapters -> Runtime. Only this module imports adapters."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import structlog
from sqlalchemy import Engine, text

from usertrail.adapters.jsonl import JsonlSinkFile
from usertrail.adapters.notify import RoutingNotifier
from usertrail.adapters.smtp import SmtpConfig, SmtpNotifier
from usertrail.adapters.sql.engine import create_schema, make_engine
from usertrail.adapters.sql.eventlog import SqlEventLog
from usertrail.adapters.sql.outbox import SqlOutbox
from usertrail.adapters.sql.projects import DEFAULT_PROJECT_ID, SqlProjects
from usertrail.adapters.sql.store import SqlDerivedStore
from usertrail.adapters.sql.writer import GroupCommitWriter
from usertrail.adapters.webhook import WebhookNotifier
from usertrail.model.config import ProjectConfig, SinkSpec
from usertrail.model.project import Project
from usertrail.observability import Metrics
from usertrail.project_file import load_project_file
from usertrail.services.actions import ActionDispatcher
from usertrail.services.context import ContextService
from usertrail.services.context_cache import ContextCache
from usertrail.services.ingest import IngestService, utc_now
from usertrail.services.live import LiveUpdates
from usertrail.services.processor import Processor
from usertrail.services.sinks import SinkWriter
from usertrail.settings import Settings

log = structlog.get_logger("usertrail")


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    writer: GroupCommitWriter
    event_log: SqlEventLog
    projects: SqlProjects
    metrics: Metrics
    config: ProjectConfig
    store: SqlDerivedStore
    ingest: IngestService
    processor: Processor
    outbox: SqlOutbox
    actions: ActionDispatcher
    sinks: SinkWriter
    context: ContextService
    live: LiveUpdates
    default_project: Project
    default_created: bool
    notifier: RoutingNotifier
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def clock(self) -> datetime:
        return utc_now()

    def config_for(self, project_id: str) -> ProjectConfig:
        """One project file serves every project of this deployment (for now)."""
        return self.config

    def start(self) -> None:
        """Start background work on the running loop (the in-process processor)."""
        if self.settings.role == "all":
            self.start_workers()

    def start_workers(self, idle_poll: float = 1.0) -> None:
        """The processor and what follows it: action deliveries and sink files."""
        for name, loop in (
            ("processor", self.processor.run_forever),
            ("actions", self.actions.run_forever),
            ("sinks", self.sinks.run_forever),
        ):
            self._tasks.append(asyncio.create_task(loop(idle_poll), name=name))

    async def readiness(self) -> list[str]:
        def ping() -> None:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        try:
            await asyncio.wait_for(asyncio.to_thread(ping), timeout=2)
        except Exception as exc:
            return [f"database: {type(exc).__name__}: {exc}"]
        return []

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.notifier.aclose()
        await asyncio.to_thread(self.writer.close)
        self.engine.dispose()


def open_projects(settings: Settings) -> SqlProjects:
    """Just the project registry, for CLI commands that manage tenants."""
    engine = make_engine(settings.sqlalchemy_url(), writer=True)
    create_schema(engine)
    return SqlProjects(engine)


def build_runtime(settings: Settings) -> Runtime:
    """Open storage, create the schema and the default project; start nothing yet."""
    url = settings.sqlalchemy_url()
    engine = make_engine(url)
    write_engine = make_engine(url, writer=True)
    create_schema(write_engine)
    writer = GroupCommitWriter(write_engine, max_weight=settings.max_commit_events)
    projects = SqlProjects(engine)
    default, created = projects.ensure(
        DEFAULT_PROJECT_ID,
        "Default project",
        token=settings.project_token,
        api_key=settings.api_key,
        webhook_secret=settings.webhook_secret,
    )
    config = load_project_file(settings.project_file) if settings.project_file else ProjectConfig()
    metrics = Metrics()
    event_log = SqlEventLog(writer, engine, settings.append_timeout_s)
    store = SqlDerivedStore(writer, engine)
    processor = Processor(event_log, store, lambda _project_id: config, metrics)
    live = LiveUpdates()
    processor.listeners.append(live.publish)
    ingest = IngestService(event_log, projects, metrics, on_stored=processor.wake)
    cache = ContextCache(size=settings.context_cache_size)
    context = ContextService(store, projects, lambda _project_id: config, utc_now, cache)
    # Invalidate before notifying streams, so a stream's rebuild never reads a stale entry.
    processor.listeners.insert(0, cache.invalidate)
    outbox = SqlOutbox(writer, engine)
    notifier = RoutingNotifier(webhook=WebhookNotifier(env=os.environ), email=_smtp(settings))
    actions = ActionDispatcher(
        outbox,
        notifier,
        metrics,
        utc_now,
        max_attempts=settings.action_max_attempts,
        base_delay_s=settings.action_retry_base_s,
    )
    sinks = SinkWriter(outbox, _sink_opener(settings, config), settings.data_dir, metrics)
    # A slice's firings and sink lines commit with it: the senders look right after.
    processor.listeners.extend((lambda _events: actions.wake(), lambda _events: sinks.wake()))
    return Runtime(
        settings=settings,
        engine=engine,
        writer=writer,
        event_log=event_log,
        projects=projects,
        metrics=metrics,
        config=config,
        store=store,
        ingest=ingest,
        processor=processor,
        outbox=outbox,
        actions=actions,
        sinks=sinks,
        notifier=notifier,
        context=context,
        live=live,
        default_project=default,
        default_created=created,
    )


def _smtp(settings: Settings) -> SmtpNotifier:
    return SmtpNotifier(
        SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            use_tls=settings.smtp_tls,
            sender=settings.smtp_from,
        )
    )


def _sink_opener(settings: Settings, config: ProjectConfig) -> Callable[[Path], JsonlSinkFile]:
    """Sink files rotate at the size their project file entry asks for."""
    max_bytes = {settings.data_dir / s.path: s.max_bytes for s in config.sinks.values()}
    return lambda path: JsonlSinkFile(
        path, max_bytes.get(path, SinkSpec.model_fields["max_bytes"].default)
    )
