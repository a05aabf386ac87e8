"""`usertrail serve`: bind the port and take the data directory first, then the banner."""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from usertrail.cli_options import (
    DATA_DIR,
    DEFAULT_DATA_DIR,
    DEFAULTS,
    PROJECT_FILE,
    console,
    hold_database_or_exit,
    hold_or_exit,
    setting,
    settings_from,
)
from usertrail.settings import Settings

if TYPE_CHECKING:
    from usertrail.processor_process import ChildProcess

DEMO = setting("demo", "The Acme demo at /demo", "--demo/--no-demo")
PROCESSES = setting("processes", "Server processes on the port (the processor stays one)")
LISTEN_FD = typer.Option(hidden=True)  # set by `serve --processes N` for its other servers
NOTICE_FD = typer.Option(hidden=True)  # their socket to the processor (local_notices)


def serve(
    host: Annotated[str, setting("host", "Bind address")] = DEFAULTS["host"],
    port: Annotated[int, setting("port", "Port (0: any free port)")] = DEFAULTS["port"],
    data_dir: Annotated[Path, DATA_DIR] = DEFAULT_DATA_DIR,
    project_file: Annotated[Path | None, PROJECT_FILE] = None,
    role: Annotated[str, setting("role", "all | ingest | context")] = DEFAULTS["role"],
    demo: Annotated[bool, DEMO] = DEFAULTS["demo"],
    processes: Annotated[int, PROCESSES] = DEFAULTS["processes"],
    listen_fd: Annotated[int | None, LISTEN_FD] = None,
    notice_fd: Annotated[int | None, NOTICE_FD] = None,
) -> None:
    """Run the service (embedded: SQLite under the data dir, no external server)."""
    from usertrail.observability import configure_logging
    from usertrail.processor_process import wanted

    settings = settings_from(
        host=host,
        port=port,
        data_dir=data_dir,
        project_file=project_file,
        role=role,
        demo=demo,
        processes=processes,
    )
    configure_logging(settings.log_level, settings.log_json)
    inline = settings.role == "all" and not settings.bus_url and not wanted(settings)
    if settings.processes > 1 and inline:
        console.print("[red]--processes > 1 needs the processor in its own process[/]")
        raise typer.Exit(1)
    if listen_fd is None:
        listener = _listen_or_exit(settings.host, settings.port)
        settings = settings.model_copy(update={"port": listener.getsockname()[1]})
    else:
        listener = socket.socket(fileno=listen_fd)
        _end_with_parent()
    lock = hold_or_exit(settings, exclusive=False)
    try:
        _serve(settings, listener, notice_fd, first=listen_fd is None)
    finally:
        if lock is not None:
            lock.close()


def _end_with_parent() -> None:
    """One of `serve --processes N`'s servers: stop (as on SIGTERM) when stdin ends."""

    def watch() -> None:
        while os.read(sys.stdin.fileno(), 4096):
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _serve(
    settings: Settings, listener: socket.socket, notice_fd: int | None, *, first: bool
) -> None:
    """`first`: not one of a first server's children (`--processes N`, with `notice_fd`
    when the processor runs beside them)."""
    import uvicorn

    from usertrail import processor_process
    from usertrail.observability import freeze_startup_heap
    from usertrail.web.app import create_app, served_app
    from usertrail.wiring import build_runtime, local_channels

    split = processor_process.wanted(settings)
    # The first server makes every server's socket to the processor; its children inherit
    # theirs, and all of them stay open here while children come and go.
    channels = local_channels(settings.processes) if split and first else []
    if channels:
        notice_fd = channels[0][0].detach()  # this process's own: the runtime owns it now
    fds = [notice_fd] if split and notice_fd is not None else []
    runtime = build_runtime(settings, "serving" if split else None, fds)
    hold_database_or_exit(runtime, exclusive=False)  # held until the process ends
    children = _children(settings, listener, channels) if first else []
    for child in children:
        child.start()  # now: they start while this process does
    if not first:
        _run(uvicorn, served_app(create_app(settings, runtime)), listener, freeze_startup_heap)
        return
    _announce(
        runtime.default_project.token,
        runtime.default_project.api_key,
        runtime.default_project.webhook_secret,
        settings,
        first=runtime.default_created,
    )
    if runtime.demo_project is not None:
        _announce_demo(runtime.demo_project.api_key, settings)
    if target := runtime.posthog_target(runtime.default_project):
        console.print(
            f"  relayed to PostHog: {target.host} as {target.token}"
            " (flags, config, assets and recordings proxied)"
        )
    try:
        _run(uvicorn, served_app(create_app(settings, runtime)), listener, freeze_startup_heap)
    finally:
        for child in children:
            child.stop()


def _children(
    settings: Settings, listener: socket.socket, channels: list[tuple[socket.socket, socket.socket]]
) -> list[ChildProcess]:
    """The processor (with `channels`: its ends of them all) and the other servers."""
    from usertrail import processor_process

    owns: list[socket.socket | None] = [own for own, _ in channels[1:]]
    owns = owns or [None] * (settings.processes - 1)
    servers = [processor_process.server(settings, listener, own) for own in owns]
    if not channels:
        return servers
    ends = [processor_end for _, processor_end in channels]
    return [processor_process.processor(settings, ends), *servers]


def _run(uvicorn: Any, app: Any, listener: socket.socket, freeze: Callable[[], None]) -> None:
    freeze()
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="on", log_config=None
    )
    uvicorn.Server(config).run(sockets=[listener])


def _listen_or_exit(host: str, port: int) -> socket.socket:
    from usertrail.listen import PortTaken, bind

    try:
        return bind(host, port)
    except PortTaken as taken:
        console.print(f"[red]Port {port} on {host} is already in use[/] (another usertrail?).")
        other = taken.free if taken.free is not None else 0
        console.print(
            f"Choose another: `usertrail serve --port {other}` or "
            f"`USERTRAIL_PORT={other} make run` (0 picks any free port)."
        )
        raise typer.Exit(1) from None


def _announce(token: str, api_key: str, secret: str, settings: Settings, *, first: bool) -> None:
    url = f"http://{settings.host}:{settings.port}"
    console.print(f"[bold]usertrail[/] on {url}  (data: {settings.sqlalchemy_url()})")
    console.print(f"  project token (public, for posthog-js / posthog-python): [green]{token}[/]")
    if first:
        console.print(f"  API key (secret, for GET /context/...):            [yellow]{api_key}[/]")
        console.print(f"  webhook secret (PostHog HTTP Webhook destination):   [yellow]{secret}[/]")
    else:
        console.print("  secrets: `usertrail projects list --show-secrets`")
    console.print(f"  posthog.init('{token}', {{api_host: '{url}'}})")
    console.print(f"  dashboard (sign in with a project's API key):  [cyan]{url}/ui[/]")


def _announce_demo(demo_key: str, settings: Settings) -> None:
    url = f"http://{settings.host}:{settings.port}"
    console.print(f"  demo app (Acme Reports, project `demo`):       [cyan]{url}/demo[/]")
    console.print(f"  demo API key (public: demo visitors only):     [green]{demo_key}[/]")
