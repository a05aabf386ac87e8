"""`usertrail serve`: bind the port and take the data directory first, then the banner."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Annotated

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

DEMO = setting("demo", "The Acme demo at /demo", "--demo/--no-demo")


def serve(
    host: Annotated[str, setting("host", "Bind address")] = DEFAULTS["host"],
    port: Annotated[int, setting("port", "Port (0: any free port)")] = DEFAULTS["port"],
    data_dir: Annotated[Path, DATA_DIR] = DEFAULT_DATA_DIR,
    project_file: Annotated[Path | None, PROJECT_FILE] = None,
    role: Annotated[str, setting("role", "all | ingest | context")] = DEFAULTS["role"],
    demo: Annotated[bool, DEMO] = DEFAULTS["demo"],
) -> None:
    """Run the service (embedded: SQLite under the data dir, no external server)."""
    from usertrail.observability import configure_logging

    settings = settings_from(
        host=host, port=port, data_dir=data_dir, project_file=project_file, role=role, demo=demo
    )
    configure_logging(settings.log_level, settings.log_json)
    listener = _listen_or_exit(settings.host, settings.port)
    settings = settings.model_copy(update={"port": listener.getsockname()[1]})
    lock = hold_or_exit(settings, exclusive=False)
    try:
        _serve(settings, listener)
    finally:
        if lock is not None:
            lock.close()


def _serve(settings: Settings, listener: socket.socket) -> None:
    import uvicorn

    from usertrail.observability import freeze_startup_heap
    from usertrail.processor_process import ProcessorProcess, wanted
    from usertrail.web.app import create_app, served_app
    from usertrail.wiring import build_runtime

    beside = ProcessorProcess(settings) if wanted(settings) else None
    runtime = build_runtime(settings, "serving" if beside else None)
    hold_database_or_exit(runtime, exclusive=False)  # held until the process ends
    if beside is not None:
        beside.start()  # now: it starts while this process does
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
    app = served_app(create_app(settings, runtime))
    freeze_startup_heap()
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="on", log_config=None
    )
    try:
        uvicorn.Server(config).run(sockets=[listener])
    finally:
        if beside is not None:
            beside.stop()


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
