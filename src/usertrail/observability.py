"""Metrics, defined once, on a registry per runtime (no import-time globals), and logging setup."""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Iterable
from typing import TextIO

import structlog
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

# Route groups (web.timing.route_group) whose refusals are ingest's: SDK capture and webhooks.
INGEST_ROUTE_GROUPS = frozenset({"capture", "webhooks"})


class Metrics:
    def __init__(self) -> None:
        # `_created` series double every counter's output and no dashboard here reads them.
        # prometheus_client only offers a process-wide switch; usertrail never wants them.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry()
        _add_runtime_collectors(self.registry)
        self.events = Counter(
            "usertrail_events_total",
            "Events ingest committed to the raw log (accepted) or found there already "
            "(duplicate), by source: capture (SDKs), webhook (PostHog), backfill (import)",
            ["outcome", "source"],
            registry=self.registry,
        )
        self.rejected = Counter(
            "usertrail_requests_rejected_total",
            "Capture and webhook requests refused, by reason (bad_payload, unauthorized, "
            "too_large, storage_unavailable, overloaded)",
            ["reason"],
            registry=self.registry,
        )
        self.reads_rejected = Counter(
            "usertrail_read_requests_rejected_total",
            "Read requests (context, retrieval, actions, persons, dashboard) refused, by "
            "reason (unauthorized, not_found, rate_limited)",
            ["reason"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "usertrail_request_seconds",
            "Time from a request's arrival to its last byte sent, by route group (capture, "
            "context, ui, ...), in seconds",
            ["route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.processed = Counter(
            "usertrail_events_processed_total",
            "Raw events the processor turned into derived events (normalized, labelled, stored)",
            registry=self.registry,
        )
        self.lag_seconds = Histogram(
            "usertrail_processing_lag_seconds",
            "Seconds from an event's receipt at ingest until its derived event is stored "
            "(what a context read can see)",
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30),
        )
        self.errors = Counter(
            "usertrail_errors_total",
            "Unexpected exceptions in background work, by component (processor, actions, "
            "sinks, relay, reconcile, retention); each is logged with its traceback",
            ["kind"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "usertrail_action_deliveries_total",
            "Trigger action delivery attempts by kind and outcome (delivered, retry, dead)",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.reconciled = Counter(
            "usertrail_reconciled_events_total",
            "Accepted events published to the bus again because no worker had processed them",
            registry=self.registry,
        )
        self.bus_backlog = Gauge(
            "usertrail_bus_backlog",
            "Events on the bus not yet acknowledged by a worker (read or not)",
            registry=self.registry,
        )
        self.bus_dead_letters = Gauge(
            "usertrail_bus_dead_letters",
            "Events moved to the dead-letter stream after too many failed deliveries",
            registry=self.registry,
        )
        self.dead_events = Counter(
            "usertrail_dead_events_total",
            "Raw events the embedded processor could not store even alone, listed in dead_events",
            registry=self.registry,
        )
        self.sink_lines = Counter(
            "usertrail_sink_lines_total",
            "Sink lines written, or dropped because redaction failed",
            ["outcome"],
            registry=self.registry,
        )
        self.relay_events = Counter(
            "usertrail_relay_events_total",
            "Events relayed to PostHog by outcome: sent, retried (per failed try), dead",
            ["outcome"],
            registry=self.registry,
        )
        self.relay_backlog = Gauge(
            "usertrail_relay_backlog",
            "Captured events the relay has not sent to PostHog yet",
            registry=self.registry,
        )
        self.relay_lag_seconds = Gauge(
            "usertrail_relay_lag_seconds",
            "Age of the oldest captured event not yet sent to PostHog (0 when caught up)",
            registry=self.registry,
        )
        self.proxy_requests = Counter(
            "usertrail_proxy_requests_total",
            "SDK requests proxied to PostHog by route and outcome (proxied, fallback, error)",
            ["route", "outcome"],
            registry=self.registry,
        )
        self.context_reads = Counter(
            "usertrail_context_reads_total",
            "Context reads by where the answer came from: cache (built already), advanced "
            "(built again from cached inputs that new events moved on, without the database) "
            "or store (loaded from the database)",
            ["source"],
            registry=self.registry,
        )

    def background(self) -> tuple[Collector, ...]:
        """What background work counts: in `usertrail serve`'s processor process, when the
        processor runs in one (usertrail.processor_process), and shown by the server."""
        return (
            self.processed,
            self.lag_seconds,
            self.errors,
            self.deliveries,
            self.dead_events,
            self.sink_lines,
            self.relay_events,
            self.relay_backlog,
            self.relay_lag_seconds,
        )

    def exposition(self, background: bytes | None = None) -> bytes:
        """The registry in Prometheus's text format; with `background`, the processor
        process's own exposition of background() in place of this process's."""
        if background is None:
            return generate_latest(self.registry)
        names = {family.name for c in self.background() for family in c.collect()}
        return generate_latest(_Without(self.registry, names)) + background

    def background_exposition(self) -> bytes:
        return generate_latest(_Only(self.background()))

    def count_refused(self, route_group: str, reason: str) -> None:
        """A refused request, counted as ingest's or as a read's by its route group."""
        counter = self.rejected if route_group in INGEST_ROUTE_GROUPS else self.reads_rejected
        counter.labels(reason).inc()


# Libraries that log routine work at INFO: a line per HTTP call (httpx), per MCP request
# ("Terminating session: None"), per migration step (alembic), per server start. Shown only
# with USERTRAIL_LOG_LEVEL=debug.
NOISY_LIBRARIES = ("httpx", "httpcore", "mcp", "uvicorn", "alembic", "sse_starlette", "asyncio")


def _add_runtime_collectors(registry: CollectorRegistry) -> None:
    """The standard process_* and python_* series (memory, CPU, fds, GC), as every Python
    exporter has them, on this runtime's registry."""
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)


def configure_logging(
    level: str = "info", json: bool = False, stream: TextIO | None = None
) -> None:
    """One format for every line: structlog's own and the libraries' (through the root
    handler's ProcessorFormatter). JSON with `json`, else the console renderer, coloured on a
    terminal."""
    out = stream or sys.stderr
    threshold = logging.getLevelName(level.upper())
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            *_STAMPS,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        cache_logger_on_first_use=True,
    )
    # JSON needs the traceback as text; the console renderer prints it itself, prettier.
    finish: list[structlog.typing.Processor] = [renderer]
    if json:
        finish.insert(0, structlog.processors.format_exc_info)
    _route_stdlib(out, finish, threshold)


_STAMPS: tuple[structlog.typing.Processor, ...] = (
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),  # ISO 8601, UTC: never ambiguous
)


def _route_stdlib(out: TextIO, finish: list[structlog.typing.Processor], threshold: int) -> None:
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*_STAMPS, structlog.stdlib.ExtraAdder()],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *finish],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]  # before mcp's basicConfig, which would add a rich handler
    root.setLevel(threshold)
    library_level = logging.DEBUG if threshold <= logging.DEBUG else max(threshold, logging.WARNING)
    for name in NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(library_level)


def freeze_startup_heap() -> None:
    """Leave everything alive at start-up out of every later garbage collection.

    The framework, the schema, the SDKs and the runtime live as long as the process, about
    180,000 tracked objects. Each full collection walked them all: 100 ms pauses here, which
    were the p99 of cold context reads (70 ms at one client). Call it once, before serving.
    """
    gc.collect()  # garbage from start-up is freed, not made permanent
    gc.freeze()


class _Only(Collector):
    def __init__(self, collectors: tuple[Collector, ...]) -> None:
        self._collectors = collectors

    def collect(self) -> Iterable[Metric]:
        for collector in self._collectors:
            yield from collector.collect()


class _Without(Collector):
    def __init__(self, registry: CollectorRegistry, names: set[str]) -> None:
        self._registry = registry
        self._names = names

    def collect(self) -> Iterable[Metric]:
        return (f for f in self._registry.collect() if f.name not in self._names)
