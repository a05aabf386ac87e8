"""The one composition root: settings -> adapters -> Runtime. Only this module imports adapters."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Literal

import msgspec
import structlog
from sqlalchemy import Engine, text

from usertrail.adapters.jsonl import JsonlSinkFile
from usertrail.adapters.local_notices import InlineLead, ProcessorNotices, ServingNotices
from usertrail.adapters.local_notices import channels as local_channels
from usertrail.adapters.local_notices import supported as local_notices_supported
from usertrail.adapters.notify import RoutingNotifier
from usertrail.adapters.posthog_capture import PosthogCapture
from usertrail.adapters.posthog_proxy import PosthogProxy
from usertrail.adapters.posthog_query import PosthogQuery
from usertrail.adapters.processor_lock import ProcessorLock, processor_lock
from usertrail.adapters.redis_bus import RedisStreamBus
from usertrail.adapters.redis_changes import RedisChangeNotices
from usertrail.adapters.smtp import SmtpConfig, SmtpNotifier
from usertrail.adapters.sql.browse import SqlBrowse
from usertrail.adapters.sql.engine import AUTOCHECKPOINT_PAGES, create_schema, make_engine
from usertrail.adapters.sql.eventlog import SqlEventLog
from usertrail.adapters.sql.leader import LeaderLock
from usertrail.adapters.sql.live_lock import LiveLock
from usertrail.adapters.sql.migrate import current_revision, migrate
from usertrail.adapters.sql.outbox import SqlOutbox
from usertrail.adapters.sql.privacy import SqlPrivacy
from usertrail.adapters.sql.projects import DEFAULT_PROJECT_ID, SqlProjects
from usertrail.adapters.sql.relay import SqlRelayState
from usertrail.adapters.sql.retention import SqlRetention
from usertrail.adapters.sql.store import SqlDerivedStore
from usertrail.adapters.sql.writer import GroupCommitWriter
from usertrail.adapters.webhook import WebhookNotifier
from usertrail.core.relay import Target, default_rand, target_for
from usertrail.demo.project import (
    DEMO_PROJECT_FILE,
    DEMO_PROJECT_ID,
    DEMO_PROJECT_NAME,
    demo_config,
    loopback_url,
)
from usertrail.model.config import ProjectConfig, SinkSpec
from usertrail.model.event import Changed, PersonId
from usertrail.model.project import Project
from usertrail.observability import Metrics
from usertrail.project_file import load_project_file
from usertrail.retrieval.index import project_indexes
from usertrail.retrieval.llm import LlmConfig, chat_client
from usertrail.retrieval.service import HelpService
from usertrail.services.account import AccountService
from usertrail.services.actions import ActionDispatcher
from usertrail.services.backfill import Backfill
from usertrail.services.context import ContextService
from usertrail.services.context_cache import ContextCache
from usertrail.services.feeds import PROCESSOR_CURSOR, BusFeed, EventFeed, LogFeed
from usertrail.services.ingest import IngestService, utc_now
from usertrail.services.leadership import STANDBY_POLL_S, Leadership
from usertrail.services.live import LiveUpdates
from usertrail.services.privacy import PrivacyService
from usertrail.services.processor import Processor
from usertrail.services.read_limits import read_limiter
from usertrail.services.reconcile import Reconciler
from usertrail.services.relay import RelayService, RelayStatus
from usertrail.services.retention import RetentionService
from usertrail.services.sinks import SinkWriter
from usertrail.settings import Settings

log = structlog.get_logger("usertrail")
__all__ = [
    "Runtime",
    "build_runtime",
    "local_channels",
    "local_notices_supported",
]
# An embedded deployment split in two processes (`usertrail serve` and the processor it runs
# beside itself): which side this runtime is.
Side = Literal["serving", "processor"]
Notices = RedisChangeNotices | ServingNotices | ProcessorNotices
# See _autocheckpoint.
SERVER_AUTOCHECKPOINT_FACTOR = 8


def _nothing() -> None:
    pass


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
    browse: SqlBrowse
    demo_project: Project | None  # the public Acme demo tenant, when enabled
    project_configs: dict[str, ProjectConfig]  # per project; others use `config`
    sink_leader: LeaderLock  # one process at a time appends to the sink files
    assistant: HelpService  # help retrieval (POST /retrieve, /assist, MCP search_help)
    privacy: PrivacyService  # DELETE /persons/{id}, GET /persons/{id}/export
    retention: RetentionService  # USERTRAIL_RETENTION_DAYS, `usertrail prune`
    retention_leader: LeaderLock  # one process at a time prunes
    accounts: AccountService  # GET /context/group/{type}/{key}
    bus: RedisStreamBus | None = None  # scale-out: accepted events travel to workers here
    reconciler: Reconciler | None = None  # scale-out: republishes what Redis lost
    upkeep_leader: LeaderLock | None = None  # one worker at a time runs the reconciler
    changes: Notices | None = None  # which persons changed, to every serving process
    relay: RelayService | None = None  # to PostHog, when a project names one
    relay_state: SqlRelayState | None = None  # also where `import posthog` resumes
    relay_leader: LeaderLock | None = None  # one process at a time relays
    relay_upstream: PosthogCapture | None = None
    proxy: PosthogProxy | None = None  # flags, config, assets, recordings to PostHog
    inline_lead: InlineLead | None = None  # the processor in-process, or a worker's: its lock
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def clock(self) -> datetime:
        return utc_now()

    def config_for(self, project_id: str) -> ProjectConfig:
        """The demo tenant runs on the Acme file; every other project on the deployment's."""
        return self.project_configs.get(project_id, self.config)

    def posthog_target(self, project: Project) -> Target | None:
        """The PostHog a project relays to and proxies to, if any."""
        return _posthog_target(self.settings, project, self.config_for(project.id))

    def relay_running(self) -> bool:
        return self._running("relay")

    def _running(self, name: str) -> bool:
        return any(task.get_name() == name and not task.done() for task in self._tasks)

    def start(self) -> None:
        """Start background work on the running loop (the in-process processor)."""
        if self.settings.role == "all" and not self.processor_elsewhere:
            if self.inline_lead is None:
                self.start_workers()
            else:
                self.spawn_lead()
        if self.changes is not None:
            # Workers in other processes: hear which persons changed, for the cache and streams.
            self._spawn("changes", self.changes.listen(self._changed))

    @property
    def processor_elsewhere(self) -> bool:
        """`usertrail serve` runs the processor in a process beside this one."""
        return isinstance(self.changes, ServingNotices)

    def spawn_lead(self, idle_poll: float = 1.0, on_lead: Callable[[], None] = _nothing) -> None:
        """`serve`'s processor (in a process of its own, or in the server's) and a standalone
        worker's, without the bus: it leads while it holds the database's processor lock
        (services.leadership), and works meanwhile; stopped by `close`."""

        def work() -> list[asyncio.Task[None]]:
            before = len(self._tasks)
            self.start_workers(idle_poll)
            on_lead()
            return self._tasks[before:]  # the processor first

        self._spawn("lead", self._leadership().run(self.lead, work))

    def _leadership(self) -> Leadership:
        lead = self.changes if isinstance(self.changes, ProcessorNotices) else self.inline_lead
        assert lead is not None
        cursor = partial(self.store.cursor, PROCESSOR_CURSOR)
        return Leadership(lead, cursor, self.store.erasures, str(self.settings.data_dir))

    async def lead(self, not_before_s: float = 0.0, poll_s: float = STANDBY_POLL_S) -> None:
        """Return once this process holds the processor lock (Leadership.take)."""
        leadership = self._leadership()
        if self.relay is not None:
            # Before the servers first hear from this process, which makes them ready: on a
            # new database the relay's cursor starts at the end of the log, and set later it
            # would pass by what clients sent as soon as the server answered ready.
            await self.relay.start()
        if isinstance(leadership.lead, ProcessorNotices) and not self._running("notices"):
            self._spawn("notices", leadership.lead.listen(self._changed))  # woken by serve
        await leadership.take(poll_s, not_before_s)

    def processor_standby(self) -> int | None:
        """This server's processor stands by: the pid of the `serve` whose processor runs
        (0 when it is not known); None otherwise."""
        if isinstance(self.changes, ServingNotices) and self.changes.processor == "standby":
            return self.changes.leader_pid or 0
        if self.inline_lead is not None and self.inline_lead.standing_by:
            return self.inline_lead.leader_pid() or 0
        return None

    def start_workers(self, idle_poll: float = 1.0) -> None:
        """The processor and what follows it: action deliveries and sink files (`serve`'s
        processor: once `lead` returned)."""
        lead = self.changes if isinstance(self.changes, ProcessorNotices) else self.inline_lead
        run = self.processor.run_forever
        # Before each slice: no roundtrip while the lock's session is quiet (still_held).
        self._spawn("processor", run(idle_poll, lead.lock.still_held) if lead else run(idle_poll))
        self._spawn("actions", self.actions.run_forever(idle_poll))
        self._spawn("sinks", self.sinks.run_forever(idle_poll, _leading(self.sink_leader)))
        if self.reconciler is not None and self.upkeep_leader is not None:
            upkeep = self.reconciler.run_forever(
                self.settings.bus_upkeep_s, _leading(self.upkeep_leader)
            )
            self._spawn("bus-upkeep", upkeep)
        if days := self.settings.retention_days:
            prune = self.retention.run_forever(
                days, self.settings.retention_every_s, _leading(self.retention_leader)
            )
            self._spawn("retention", prune)
        if self.relay is not None and self.relay_leader is not None:
            self._spawn("relay", self.relay.run_forever(idle_poll, _leading(self.relay_leader)))

    def _changed(self, ids: Sequence[Changed]) -> None:
        self.context.cache.invalidate(ids)
        self.live.publish(ids)

    def _spawn(self, name: str, work: Coroutine[Any, Any, None]) -> None:
        self._tasks.append(asyncio.create_task(work, name=name))

    async def readiness(self) -> list[str]:
        def ping() -> None:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        try:
            await asyncio.wait_for(asyncio.to_thread(ping), timeout=2)
        except Exception as exc:
            return [f"database: {type(exc).__name__}: {exc}"]
        if self.bus is not None:
            try:
                await asyncio.wait_for(self.bus.ping(), timeout=2)
            except Exception as exc:
                return [f"event bus: {type(exc).__name__}: {exc}"]
        if isinstance(self.changes, ServingNotices) and not self.changes.processor_seen:
            return ["processor: its process has not started yet"]
        return []

    async def metrics_exposition(self) -> bytes:
        """/metrics: with the processor in its own process, its background counts are its."""
        if isinstance(self.changes, ServingNotices):
            background = await self.changes.processor_metrics()
            return self.metrics.exposition(background)
        return self.metrics.exposition()

    async def relay_status(self) -> RelayStatus | None:
        """The relay's counts since its start, from the process that relays (this one, or
        the processor beside it); None where a worker elsewhere relays."""
        if self.relay is not None and self.relay_running():
            return self.relay.status
        if isinstance(self.changes, ServingNotices):
            encoded = await self.changes.processor_relay()
            return msgspec.json.decode(encoded, type=RelayStatus) if encoded else None
        return None

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.notifier.aclose()
        await self.assistant.aclose()
        await asyncio.to_thread(self.context.close)
        for upstream in (self.relay_upstream, self.proxy):
            if upstream is not None:
                await upstream.aclose()
        for client in (self.bus, self.changes):
            if client is not None:
                await client.aclose()
        await asyncio.to_thread(self.sink_leader.release)
        await asyncio.to_thread(self.retention_leader.release)
        for lock in (self.upkeep_leader, self.relay_leader):
            if lock is not None:
                await asyncio.to_thread(lock.release)
        if self.inline_lead is not None:
            self.inline_lead.release()  # after the processor's tasks ended
        await asyncio.to_thread(self.writer.close)
        self.engine.dispose()


def _leading(lock: LeaderLock) -> Callable[[], Awaitable[bool]]:
    """Asks, off the event loop, whether this process leads (taking the lock when free)."""
    return lambda: asyncio.to_thread(lock.try_acquire)


def migrate_database(settings: Settings) -> tuple[str | None, str]:
    """Upgrade the schema; returns the revisions before and after."""
    engine = make_engine(settings.sqlalchemy_url(), writer=True)
    try:
        before = current_revision(engine)
        return before, migrate(engine)
    finally:
        engine.dispose()


def open_projects(settings: Settings) -> SqlProjects:
    """Just the project registry, for CLI commands that manage tenants."""
    engine = make_engine(settings.sqlalchemy_url(), writer=True)
    create_schema(engine)
    return SqlProjects(engine)


CONTEXT_BUILDERS_PG = 4


def build_runtime(
    settings: Settings, side: Side | None = None, notice_fds: Sequence[int] = ()
) -> Runtime:
    """Open storage, create the schema and the default project; start nothing yet.

    `side`: this process is one of an embedded deployment's two, talking over the sockets
    `notice_fds` (local_notices: one for a server, one per server for the processor)."""
    url = settings.sqlalchemy_url()
    engine = make_engine(url)
    write_engine = make_engine(url, writer=True, autocheckpoint=_autocheckpoint(side))
    create_schema(write_engine)
    writer = GroupCommitWriter(write_engine, max_weight=settings.max_commit_events)
    projects = SqlProjects(engine, write_engine)
    default, created = projects.ensure(
        DEFAULT_PROJECT_ID,
        "Default project",
        token=settings.project_token,
        api_key=settings.api_key,
        webhook_secret=settings.webhook_secret,
    )
    config = load_project_file(settings.project_file) if settings.project_file else ProjectConfig()
    demo = projects.ensure(DEMO_PROJECT_ID, DEMO_PROJECT_NAME)[0] if settings.demo else None
    configs = (
        {DEMO_PROJECT_ID: demo_config(loopback_url(settings.host, settings.port))} if demo else {}
    )

    def config_for(project_id: str) -> ProjectConfig:
        return configs.get(project_id, config)

    metrics = Metrics()
    bus, remote = _bus(settings)
    event_log = SqlEventLog(
        writer,
        engine,
        settings.append_timeout_s,
        max_pending=settings.max_pending_appends,
        ordered=bus is None,  # without the bus, a processor follows the log by seq
    )
    store = SqlDerivedStore(writer, engine)
    local = _local_notices(settings, side, notice_fds, write_engine) if bus is None else None
    changes: Notices | None = local or remote
    feed: EventFeed = LogFeed(event_log, store) if bus is None else _bus_feed(settings, bus)
    overlap = engine.dialect.name != "sqlite"  # see Processor.drain
    processor = Processor(feed, store, config_for, metrics, overlap=overlap)
    live = LiveUpdates()
    processor.listeners.append(live.publish)
    if changes is not None:
        processor.listeners.append(changes.publish)
    relay_state = SqlRelayState(writer, engine)

    async def target_of(project_id: str) -> Target | None:
        project = await projects.by_id(project_id)
        return _posthog_target(settings, project, config_for(project_id)) if project else None

    relay, upstream = _relay(settings, config, event_log, relay_state, target_of, metrics)
    wake = _wakers(processor, relay)
    if isinstance(local, ProcessorNotices):
        local.on_wake = wake
        local.metrics_text = metrics.background_exposition
        if relay is not None:
            local.relay_text = partial(msgspec.json.encode, relay.status)
    on_stored = local.wake if isinstance(local, ServingNotices) else wake
    ingest = IngestService(event_log, projects, metrics, on_stored=on_stored, bus=bus)
    cache = ContextCache(size=settings.context_cache_size)
    if isinstance(local, ServingNotices):
        local.on_standby = cache.bypass
    if isinstance(changes, ServingNotices | RedisChangeNotices):
        changes.wants_event = cache.holds  # the rest of a notice is read as ids
    limiter = read_limiter(settings.read_rate_per_s, settings.read_burst)
    # SQLite: one builder thread (its reads hold the GIL between rows: two builders only take
    # turns). PostgreSQL: a read waits on the server, so a few overlap.
    builders = 1 if engine.dialect.name == "sqlite" else CONTEXT_BUILDERS_PG
    reads = {s: metrics.context_reads.labels(s) for s in ("cache", "advanced", "store")}
    context = ContextService(
        store, projects, config_for, utc_now, cache, limiter, builders, lambda s: reads[s].inc()
    )
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
        send_timeout_s=settings.action_send_timeout_s,
    )
    privacy_store = SqlPrivacy(writer, engine)
    sinks = SinkWriter(
        outbox,
        _sink_opener(settings, [config, *configs.values()]),
        settings.data_dir,
        metrics,
        purges=privacy_store,
    )
    forget = _forgetter(cache, live, changes)
    inline_lead = _inline_lead(settings, side, bus, cache, forget, write_engine)
    # A slice's firings and sink lines commit with it: the senders look right after.
    processor.listeners.extend((lambda _events: actions.wake(), lambda _events: sinks.wake()))
    runtime = Runtime(
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
        browse=SqlBrowse(engine),
        demo_project=demo,
        project_configs=configs,
        sink_leader=LeaderLock(write_engine, "usertrail:sinks"),
        assistant=_assistant(settings, config, configs, context),
        privacy=PrivacyService(privacy_store, outbox, forget, sinks.wake, utc_now),
        retention=RetentionService(
            SqlRetention(writer, engine), config_for, utc_now, forget, metrics
        ),
        retention_leader=LeaderLock(write_engine, "usertrail:retention"),
        accounts=AccountService(store, config_for, utc_now),
        bus=bus,
        changes=changes,
        reconciler=_reconciler(settings, event_log, store, bus, metrics) if bus else None,
        upkeep_leader=LeaderLock(write_engine, "usertrail:bus-upkeep") if bus else None,
        relay=relay,
        relay_state=relay_state,
        relay_leader=LeaderLock(write_engine, "usertrail:relay") if relay else None,
        relay_upstream=upstream,
        proxy=PosthogProxy(settings.proxy_timeout_s) if relay else None,
        inline_lead=inline_lead,
    )
    return runtime


def _posthog_target(settings: Settings, project: Project, config: ProjectConfig) -> Target | None:
    default = project.id == DEFAULT_PROJECT_ID
    return target_for(
        project.token,
        config.posthog,
        host=settings.posthog_host if default else None,
        assets_host=settings.posthog_assets_host if default else None,
    )


def _wakers(processor: Processor, relay: RelayService | None) -> Callable[[], None]:
    if relay is None:
        return processor.wake

    def wake() -> None:
        processor.wake()
        relay.wake()

    return wake


def _relay(
    settings: Settings,
    config: ProjectConfig,
    event_log: SqlEventLog,
    state: SqlRelayState,
    target_of: Callable[[str], Awaitable[Target | None]],
    metrics: Metrics,
) -> tuple[RelayService | None, PosthogCapture | None]:
    """A relay when the deployment names a PostHog (the default project's, or the file's)."""
    if not (settings.posthog_host or config.posthog):
        return None, None
    upstream = PosthogCapture(settings.relay_timeout_s)
    # SQLite commits in seq order: a gap there is a deleted row, never one still to come.
    postgres = settings.sqlalchemy_url().startswith("postgresql")
    relay = RelayService(
        event_log,
        state,
        upstream,
        target_of,
        metrics,
        utc_now,
        batch_events=settings.relay_batch_events,
        retry_max_s=settings.relay_retry_max_s,
        gap_wait=timedelta(seconds=settings.relay_gap_wait_s if postgres else 0),
        linger_s=settings.relay_linger_s,
        rand=default_rand,
    )
    return relay, upstream


def _forgetter(
    cache: ContextCache, live: LiveUpdates, changes: Notices | None
) -> Callable[[Sequence[PersonId]], None]:
    """Erased or pruned persons leave the hot contexts and wake the live streams, here and,
    through the change notices, in every other process."""

    def forget(ids: Sequence[PersonId]) -> None:
        cache.invalidate(ids)
        live.publish(ids)
        if changes is not None:
            changes.publish(ids)

    return forget


def _assistant(
    settings: Settings,
    config: ProjectConfig,
    configs: dict[str, ProjectConfig],
    context: ContextService,
) -> HelpService:
    """Help indexes are built here, once: each project's `help_docs`, next to its file."""
    files = {DEMO_PROJECT_ID: DEMO_PROJECT_FILE}
    indexes = project_indexes(
        (settings.project_file, config),
        {pid: (files.get(pid), c) for pid, c in configs.items()},
    )
    llm = LlmConfig(
        base_url=settings.llm_base_url,
        model=settings.llm_model,
        api_key=settings.llm_api_key,
        timeout_s=settings.llm_timeout_s,
        max_tokens=settings.llm_max_tokens,
    )
    return HelpService(context, indexes, chat_client(llm))


def _bus(settings: Settings) -> tuple[RedisStreamBus | None, RedisChangeNotices | None]:
    if not settings.bus_url:
        return None, None
    bus = RedisStreamBus(
        settings.bus_url,
        prefix=settings.bus_prefix,
        partitions=settings.bus_partitions,
        max_deliveries=settings.bus_max_deliveries,
    )
    return bus, RedisChangeNotices(settings.bus_url, f"{settings.bus_prefix}:changes")


def _local_notices(
    settings: Settings, side: Side | None, fds: Sequence[int], engine: Engine
) -> Notices | None:
    if side is None:
        return None
    if side == "serving":
        [fd] = fds
        return ServingNotices(fd)
    lock = _processor_lock(settings, engine, os.getppid())
    return ProcessorNotices(fds, lock, linger_s=settings.processor_linger_ms / 1000)


def _autocheckpoint(side: Side | None) -> int:
    """SQLite: a server beside its own processor leaves most of the copying of the WAL into
    the database file to the processor, whose commits are no client's wait (strace, `/e/` at
    one connection for 5 s: the server's commits fsynced the database file 14 times, the
    processor's 2; now 0 and 32). The server still checkpoints past its higher threshold:
    the processor's checkpoints, with capture appending meanwhile, rarely finish, and only a
    finished one lets the WAL start over, so it grows to that size (32 MiB). Measured
    (docs/performance.md, fifth round): batched capture 8-30% faster; single events at one
    connection slower while a fresh WAL file grows, about the same once it has."""
    return AUTOCHECKPOINT_PAGES * (SERVER_AUTOCHECKPOINT_FACTOR if side == "serving" else 1)


def _processor_lock(settings: Settings, engine: Engine, server_pid: int) -> ProcessorLock:
    """The file lock in the data directory, and on PostgreSQL the database's too: processes
    on one database with different data directories see none of each other's files."""
    path = processor_lock(settings.data_dir, settings.sqlalchemy_url())
    postgres = engine.dialect.name == "postgresql"
    database = LeaderLock(engine, "usertrail:processor") if postgres else None
    return ProcessorLock(path, server_pid, database)


def _inline_lead(
    settings: Settings,
    side: Side | None,
    bus: RedisStreamBus | None,
    cache: ContextCache,
    forget: Callable[[Sequence[PersonId]], None],
    engine: Engine,
) -> InlineLead | None:
    """`serve` with its processor in-process, or a standalone `usertrail worker`, follows the
    log by seq, as the split one does: one processor per database, under the same lock (a
    bus has its consumer group instead). Whatever the role: a worker is a processor even
    with USERTRAIL_ROLE=ingest in its environment, and a server of another role never leads."""
    if side is not None or bus is not None:
        return None
    return InlineLead(_processor_lock(settings, engine, os.getpid()), cache.bypass, forget)


def _reconciler(
    settings: Settings,
    event_log: SqlEventLog,
    store: SqlDerivedStore,
    bus: RedisStreamBus,
    metrics: Metrics,
) -> Reconciler:
    grace = timedelta(seconds=settings.bus_reconcile_after_s)
    return Reconciler(event_log, store, bus, metrics, utc_now, grace=grace)


def _bus_feed(settings: Settings, bus: RedisStreamBus) -> BusFeed:
    # Unique per process: a restarted worker is a new consumer, and what its previous life
    # left unacked is reclaimed once idle.
    consumer = f"{socket.gethostname()}-{os.getpid()}"
    return BusFeed(bus, consumer, reclaim_idle_ms=settings.bus_reclaim_idle_ms)


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


def _sink_opener(
    settings: Settings, configs: list[ProjectConfig]
) -> Callable[[Path], JsonlSinkFile]:
    """Sink files rotate at the size their project file entry asks for."""
    max_bytes = {settings.data_dir / s.path: s.max_bytes for c in configs for s in c.sinks.values()}
    return lambda path: JsonlSinkFile(
        path, max_bytes.get(path, SinkSpec.model_fields["max_bytes"].default)
    )


def posthog_import(
    runtime: Runtime,
    host: str,
    posthog_project: str,
    api_key: str,
    *,
    page_size: int,
    on_wait: Callable[[str, float], None],
    on_warn: Callable[[str], None],
) -> tuple[Backfill, Callable[[], Awaitable[None]]]:
    """`usertrail import posthog`: the backfill over PostHog's query API, and its closer."""
    source = PosthogQuery(host, posthog_project, api_key)
    assert runtime.relay_state is not None
    backfill = Backfill(
        source,
        runtime.ingest,
        runtime.relay_state,
        utc_now,
        page_size=page_size,
        on_wait=on_wait,
        on_warn=on_warn,
    )
    return backfill, source.aclose


def live_lock(runtime: Runtime) -> LiveLock:
    """What keeps `replay` off a PostgreSQL database live processes use (adapters.sql)."""
    return LiveLock(runtime.engine)
