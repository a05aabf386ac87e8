"""Settings: how the service runs. Precedence, stated once: CLI flag -> USERTRAIL_* env -> default.

The project file (`project_file`, read by usertrail.project_file) configures the product, not
the service: pages, features, funnels, triggers, sinks. Nothing here is read from it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="USERTRAIL_", extra="ignore")

    # all: ingest + processor + context in one process (embedded default). ingest / context:
    # no in-process processor; run `usertrail worker` beside it (same data dir or database).
    role: Literal["all", "ingest", "context"] = "all"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    data_dir: Path = Path(".usertrail")
    database_url: str | None = None  # default: SQLite (WAL) under data_dir
    # Scale-out: ingest publishes accepted events to Redis Streams, `usertrail worker`s consume
    # them in a consumer group. Unset: the processor follows the raw log (embedded).
    bus_url: str | None = None
    # `serve --role all` without a bus runs the processor, deliveries and sink files in a
    # `usertrail worker` process of its own (usertrail.processor_process): capture keeps its
    # GIL and the processor gets another core. False: all of it in the serving process.
    processor_process: bool = True
    # ... which starts a slice this long after it is first woken (adapters.local_notices):
    # fresher context with less, fewer capture commits waiting on its writes with more.
    processor_linger_ms: int = Field(default=20, ge=0, le=1000)
    # ... at this niceness: when capture and the processor want more CPU than there is, the
    # kernel gives capture (whose 2xx waits) the larger share, and the processor, behind,
    # catches up in larger slices, which cost less per event. 0: the server's priority.
    processor_nice: int = Field(default=5, ge=0, le=19)
    # `serve`: server processes answering on the one port (each captures and reads; the
    # processor stays one). More than one needs the processor out of them (above, or a bus).
    processes: int = Field(default=1, ge=1, le=64)
    bus_prefix: str = "usertrail"  # Redis key prefix: deployments can share one Redis
    bus_partitions: int = Field(default=16, ge=1, le=1024)
    # A worker's unacked entries are taken over by another worker after this long.
    bus_reclaim_idle_ms: int = Field(default=30_000, ge=100)
    # Deliveries of one entry before it goes to the dead-letter stream (a poison event).
    bus_max_deliveries: int = Field(default=5, ge=1)
    # Accepted events with no derived row this long after receipt are published again (they
    # were lost by Redis); the check, the trim of acked entries and the backlog gauge run
    # every `bus_upkeep_s` in one worker.
    bus_reconcile_after_s: float = Field(default=300.0, gt=0)
    bus_upkeep_s: float = Field(default=30.0, gt=0)
    project_file: Path | None = None
    project_token: str | None = None  # fixes the default project's public token
    api_key: str | None = None  # fixes the default project's secret read key
    webhook_secret: str | None = None  # fixes the default project's webhook secret
    # The Acme Reports demo at /demo, as its own public project `demo` (usertrail.demo).
    demo: bool = True
    log_level: str = "info"
    log_json: bool = False
    # posthog-js's dist/ (from npm); served at /static/ so the SDK's lazy extensions load.
    posthog_js_dir: Path | None = None
    # Built contexts kept hot until the person's next event (0 disables the cache).
    context_cache_size: int = Field(default=10_000, ge=0)
    # Longest a capture request waits for its commit before answering 503 + Retry-After.
    append_timeout_s: float = Field(default=5.0, gt=0)
    # At most this many capture requests wait for a commit at once; past it, 503 + Retry-After
    # at once instead of queueing (capture never answers 429: the browser SDK drops those).
    max_pending_appends: int = Field(default=1024, ge=1)
    # Keep PostHog in the loop: accepted events are relayed to this PostHog (the default
    # project's; others set `posthog:` in the project file), and the SDK's flags, config,
    # assets and recordings are proxied to it.
    posthog_host: str | None = Field(default=None, pattern=r"^https?://[^/\s]+")
    posthog_assets_host: str | None = Field(default=None, pattern=r"^https?://[^/\s]+")
    relay_batch_events: int = Field(default=1000, ge=1, le=10_000)
    # After a commit wakes the relay it waits this long for more, so events go in batches.
    relay_linger_s: float = Field(default=0.1, ge=0, le=5)
    relay_timeout_s: float = Field(default=10.0, gt=0)
    relay_retry_max_s: float = Field(default=60.0, gt=0)  # the longest backoff between tries
    # PostgreSQL hands out raw-log seqs before commit, so a gap may still fill: the relay
    # waits this long behind a gap (SQLite commits in seq order and never waits).
    relay_gap_wait_s: float = Field(default=10.0, ge=0)
    proxy_timeout_s: float = Field(default=10.0, gt=0)
    # A request body must have arrived whole this many seconds after the request began
    # (a slow-body client holds a connection and a task); past it, 408.
    body_timeout_s: float = Field(default=30.0, gt=0)
    # Server-sent event streams (context, dashboard): at most `max_streams` open per process
    # (past it, 503 + Retry-After), each closed after `stream_max_s` (EventSource reconnects).
    max_streams: int = Field(default=256, ge=1)
    stream_max_s: float = Field(default=3600.0, gt=0)
    # Reads (context, actions, retrieval, dashboard, MCP) per project: a token bucket of
    # `read_burst` refilled at `read_rate_per_s`; over it, 429 + Retry-After. 0 turns it off.
    read_rate_per_s: float = Field(default=200.0, ge=0)
    read_burst: int = Field(default=400, ge=1)
    # Group commit: at most this many events in one transaction of the raw log.
    max_commit_events: int = Field(default=20_000, ge=1)
    # Trigger email actions go out over SMTP (Mailgun and SendGrid accept SMTP too).
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False  # upgrade a plain connection (port 587)
    smtp_tls: bool = False  # TLS from the first byte (port 465)
    smtp_from: str = "usertrail <usertrail@localhost>"
    # POST /assist calls an OpenAI-compatible chat endpoint when a base URL is set (e.g.
    # https://api.openai.com/v1); without one it answers from a template, offline.
    llm_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_api_key: str | None = None
    llm_timeout_s: float = Field(default=30.0, gt=0)
    llm_max_tokens: int = Field(default=400, ge=1)
    # A failed action delivery is retried with exponential backoff, then dead-lettered.
    action_max_attempts: int = Field(default=8, ge=1)
    action_retry_base_s: float = Field(default=5.0, gt=0)
    # One send's time limit. A sender killed mid-send leaves its claim for twice this long
    # before another sender (or its restart) takes the delivery over (adapters.sql.outbox).
    action_send_timeout_s: float = Field(default=30.0, gt=0)
    # Events older than this many days (by event time) are pruned from the raw log and the
    # derived state, every `retention_every_s` by the processor's process (core.retention).
    # None: keep everything.
    retention_days: int | None = Field(default=None, ge=1)
    retention_every_s: float = Field(default=3600.0, gt=0)

    def posthog_js_path(self) -> Path | None:
        candidates = (
            [self.posthog_js_dir]
            if self.posthog_js_dir
            else [
                Path.cwd() / "node_modules/posthog-js/dist",
                Path(__file__).resolve().parents[2] / "node_modules/posthog-js/dist",
            ]
        )
        return next((p for p in candidates if p and (p / "module.js").is_file()), None)

    def npm_package_dir(self, package: str, marker: str) -> Path | None:
        """An npm package `make install` put in node_modules (beside the working directory or
        the checkout), if `marker` is in it: Swagger UI and ReDoc for /docs and /redoc."""
        roots = (Path.cwd(), Path(__file__).resolve().parents[2])
        found = (root / "node_modules" / package for root in roots)
        return next((p for p in found if (p / marker).is_file()), None)

    def sqlalchemy_url(self) -> str:
        if self.database_url:
            # Plain postgresql:// means psycopg 3 here (SQLAlchemy's default driver is psycopg2).
            scheme, _, rest = self.database_url.partition("://")
            if scheme in ("postgres", "postgresql"):
                return f"postgresql+psycopg://{rest}"
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'usertrail.db').resolve()}"
