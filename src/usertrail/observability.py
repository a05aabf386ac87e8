"""Metrics, defined once, on a registry per runtime (no import-time globals), and logging setup."""

from __future__ import annotations

import gc
import logging
import sys
from typing import TextIO

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter(
            "usertrail_events_total",
            "Events by outcome at ingest",
            ["outcome", "source"],
            registry=self.registry,
        )
        self.rejected = Counter(
            "usertrail_requests_rejected_total",
            "Rejected ingest requests by reason",
            ["reason"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "usertrail_request_seconds",
            "HTTP request latency",
            ["route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.processed = Counter(
            "usertrail_events_processed_total",
            "Events normalized by the processor",
            registry=self.registry,
        )
        self.lag_seconds = Histogram(
            "usertrail_processing_lag_seconds",
            "From receipt at ingest to normalized and stored",
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30),
        )
        self.errors = Counter(
            "usertrail_errors_total", "Errors by kind", ["kind"], registry=self.registry
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


# Libraries that log routine work at INFO: a line per HTTP call (httpx), per MCP request
# ("Terminating session: None"), per migration step (alembic), per server start. Shown only
# with USERTRAIL_LOG_LEVEL=debug.
NOISY_LIBRARIES = ("httpx", "httpcore", "mcp", "uvicorn", "alembic", "sse_starlette", "asyncio")


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
    _route_stdlib(out, renderer, threshold)


_STAMPS: tuple[structlog.typing.Processor, ...] = (
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),  # ISO 8601, UTC: never ambiguous
)


def _route_stdlib(out: TextIO, renderer: structlog.typing.Processor, threshold: int) -> None:
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*_STAMPS, structlog.stdlib.ExtraAdder()],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
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
