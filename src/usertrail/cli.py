"""The `usertrail` command."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from usertrail.cli_eval import eval_app
from usertrail.cli_import import import_app
from usertrail.cli_options import (
    DATA_DIR,
    DEFAULT_DATA_DIR,
    MARKUP,
    PROJECT_FILE,
    console,
    hold_database_or_exit,
    hold_or_exit,
    settings_from,
)
from usertrail.cli_serve import serve

if TYPE_CHECKING:
    from usertrail.wiring import Runtime

T = TypeVar("T")

app = typer.Typer(
    help="usertrail: PostHog events in, LLM-ready user context out.",
    no_args_is_help=True,
    rich_markup_mode=MARKUP,
)
app.command()(serve)
_settings = settings_from  # what `usertrail import` (cli_import) imports from here

app.add_typer(import_app, name="import")
app.add_typer(eval_app, name="eval")

projects_app = typer.Typer(
    help="Manage projects (tenants).", no_args_is_help=True, rich_markup_mode=MARKUP
)
app.add_typer(projects_app, name="projects")


@projects_app.command("list")
def projects_list(
    data_dir: Annotated[Path, DATA_DIR] = DEFAULT_DATA_DIR,
    show_secrets: Annotated[
        bool, typer.Option(help="Also print API keys and webhook secrets")
    ] = False,
) -> None:
    """List projects and their public tokens."""
    from usertrail.wiring import open_projects

    for p in open_projects(settings_from(data_dir=data_dir)).load():
        secrets = (
            f"  api_key={p.api_key}  webhook_secret={p.webhook_secret}" if show_secrets else ""
        )
        typer.echo(f"{p.id}  {p.name!r}  token={p.token}{secrets}")


@projects_app.command("create")
def projects_create(
    project_id: Annotated[str, typer.Argument(help="Short id, e.g. 'acme'")],
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
    data_dir: Annotated[Path, DATA_DIR] = DEFAULT_DATA_DIR,
) -> None:
    """Create a project and print its credentials."""
    from usertrail.demo.project import DEMO_PROJECT_ID
    from usertrail.model.project import PROJECT_ID_RULE, valid_project_id
    from usertrail.wiring import open_projects

    if not valid_project_id(project_id):
        raise typer.BadParameter(f"{project_id!r} is not a valid id: {PROJECT_ID_RULE}")
    if project_id == DEMO_PROJECT_ID:
        # The demo tenant's key is public (the demo page shows it): never a real project's.
        raise typer.BadParameter(f"{project_id!r} is reserved for the public demo project")
    project, created = open_projects(settings_from(data_dir=data_dir)).ensure(
        project_id, name or project_id
    )
    if not created:
        raise typer.BadParameter(f"project {project_id!r} exists already")
    typer.echo(
        f"token={project.token}\napi_key={project.api_key}\nwebhook_secret={project.webhook_secret}"
    )


def _progress() -> Progress:
    """One bar with its count and time left, on stderr."""
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    return Progress(*columns, console=console)


@app.command()
def replay(
    data_dir: Annotated[Path, DATA_DIR] = DEFAULT_DATA_DIR,
    project_file: Annotated[Path | None, PROJECT_FILE] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Run even while a server uses the data directory")
    ] = False,
) -> None:
    """Rebuild all derived state (events, persons, sessions, counters) from the raw log.

    Stop the server first: replay drops derived state before rebuilding it. It refuses to
    start while a server or worker uses the data (SQLite or PostgreSQL), unless --force.
    """
    import asyncio

    from usertrail.services.replay import replay as run_replay
    from usertrail.wiring import build_runtime

    settings = settings_from(data_dir=data_dir, project_file=project_file)
    lock = None if force else hold_or_exit(settings, exclusive=True)
    runtime = build_runtime(settings)
    if not force:
        hold_database_or_exit(runtime, exclusive=True)

    async def main() -> int:
        with _progress() as progress:
            task = progress.add_task("replaying raw log", total=None)
            try:
                return await run_replay(
                    runtime.store,
                    runtime.processor,
                    on_start=lambda total: progress.update(task, total=total),
                    on_batch=lambda n: progress.advance(task, n),
                )
            finally:
                await runtime.close()

    done = asyncio.run(main())
    if lock is not None:
        lock.close()
    console.print(f"replayed {done:,} events")


@app.command()
def prune(
    days: Annotated[
        int | None, typer.Option(min=1, help="Keep this many days [env USERTRAIL_RETENTION_DAYS]")
    ] = None,
    data_dir: Annotated[Path, DATA_DIR] = DEFAULT_DATA_DIR,
    project_file: Annotated[Path | None, PROJECT_FILE] = None,
) -> None:
    """Delete events older than the retention period, and rebuild their counters.

    Prunes the raw log and derived state, then rebuilds the counters the pruned events were
    part of. Safe while the service runs (unlike replay, it never drops derived state).
    """
    import asyncio

    from usertrail.wiring import build_runtime

    settings = settings_from(data_dir=data_dir, project_file=project_file, retention_days=days)
    if not settings.retention_days:
        raise typer.BadParameter("give --days or set USERTRAIL_RETENTION_DAYS", param_hint="--days")
    keep = settings.retention_days
    runtime = build_runtime(settings)

    async def main() -> tuple[int, int]:
        try:
            with _progress() as progress:
                total = await runtime.retention.count(keep)
                task = progress.add_task(f"pruning events older than {keep} days", total=total)
                pruned = await runtime.retention.prune(keep, lambda n: progress.advance(task, n))
                return pruned.events, pruned.deliveries
        finally:
            await runtime.close()

    events, deliveries = asyncio.run(main())
    console.print(f"pruned {events:,} events and {deliveries:,} finished deliveries")


@app.command()
def migrate(
    data_dir: Annotated[Path, DATA_DIR] = DEFAULT_DATA_DIR,
) -> None:
    """Create or upgrade the database schema.

    The database is USERTRAIL_DATABASE_URL [env USERTRAIL_DATABASE_URL], else SQLite under
    the data directory. Every process does this at start too; run it once before rolling out
    many processes on PostgreSQL.
    """
    from usertrail.wiring import migrate_database

    before, after = migrate_database(settings_from(data_dir=data_dir))
    change = "already at" if before == after else f"{before or 'empty'} ->"
    console.print(f"schema {change} revision [green]{after}[/]")


@app.command("check-config")
def check_config(path: Annotated[Path, typer.Argument(help="Project YAML file")]) -> None:
    """Validate a project file; list every error with its path."""
    from usertrail.errors import ConfigError
    from usertrail.project_file import load_project_file

    try:
        config = load_project_file(path)
    except ConfigError as exc:
        console.print(f"[red]{path}: invalid[/]\n{exc.detail}")
        raise typer.Exit(1) from exc
    console.print(
        f"[green]{path}: ok[/] ({len(config.pages)} pages, {len(config.features)} "
        f"features, {len(config.funnels)} funnels, {len(config.triggers)} triggers, "
        f"{len(config.sinks)} sinks)"
    )


@app.command()
def mcp(
    api_key: Annotated[
        str | None, typer.Option(envvar="USERTRAIL_API_KEY", help="The project's secret API key")
    ] = None,
    data_dir: Annotated[Path, DATA_DIR] = DEFAULT_DATA_DIR,
) -> None:
    """Serve the MCP tools over stdio (for Claude Desktop, IDEs and agent frameworks)."""
    import anyio

    from usertrail.front import Services
    from usertrail.mcp_server import build_mcp
    from usertrail.observability import configure_logging
    from usertrail.wiring import build_runtime

    settings = settings_from(data_dir=data_dir)
    configure_logging(settings.log_level, settings.log_json)  # stderr: stdout is the protocol
    runtime = build_runtime(settings)

    async def main() -> None:
        try:
            key = api_key or runtime.default_project.api_key
            await build_mcp(Services.of(runtime), key).run_stdio_async()
        finally:
            await runtime.close()

    anyio.run(main)


@app.command()
def worker(
    data_dir: Annotated[Path, DATA_DIR] = DEFAULT_DATA_DIR,
    project_file: Annotated[Path | None, PROJECT_FILE] = None,
    poll_ms: Annotated[int, typer.Option(help="How often to look for new raw events")] = 50,
    beside_serve: Annotated[bool, typer.Option(hidden=True)] = False,
    notice_fds: Annotated[str, typer.Option(hidden=True)] = "",  # serve's sockets, "5,6"
) -> None:
    """Run the processor, action deliveries and sink files in their own process.

    Beside `serve --role ingest`, on its own core. (`serve` starts one itself, with
    `--beside-serve`: woken by it, telling it what changed, ending with it.) Without the
    bus, one processor follows a database: a worker stands by while another holds the
    processor lock (a worker's, or a `serve`'s), and takes over when that one ends.
    """
    import asyncio

    import structlog

    from usertrail.observability import configure_logging, freeze_startup_heap
    from usertrail.wiring import build_runtime

    settings = settings_from(data_dir=data_dir, project_file=project_file)
    configure_logging(settings.log_level, settings.log_json)
    if beside_serve:
        os.nice(settings.processor_nice)  # capture first when the cores are short
    lock = hold_or_exit(settings, exclusive=False)  # kept open: replay stays off
    fds = [int(fd) for fd in notice_fds.split(",") if fd]
    runtime = build_runtime(settings, "processor" if beside_serve else None, fds)
    hold_database_or_exit(runtime, exclusive=False)

    async def main() -> None:
        freeze_startup_heap()
        ended = asyncio.ensure_future(_stdin_closed() if beside_serve else asyncio.Event().wait())
        mode = "event bus" if settings.bus_url else "raw log"

        def started() -> None:
            structlog.get_logger("usertrail").info("worker_started", feed=mode)

        try:
            # One processor per database: it stands by while another (a `serve`'s, or a
            # worker's) holds the lock, and a failed start is tried again (services.leadership,
            # as the processor in `serve`'s process). With the bus, the consumer group shares
            # the work.
            if beside_serve or runtime.inline_lead is not None:
                runtime.spawn_lead(poll_ms / 1000, on_lead=started)
            else:
                runtime.start_workers(idle_poll=poll_ms / 1000)
                started()
            await ended
        finally:
            ended.cancel()
            if beside_serve:
                _exit_after(SHUTDOWN_GRACE_S)
            await runtime.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    if lock is not None:
        lock.close()


SHUTDOWN_GRACE_S = 10.0


def _exit_after(seconds: float) -> None:
    """End this process in `seconds` however its shutdown goes. `serve`'s processor, its
    server gone, was seen running on for good, holding the processor lock (so a second
    `serve` never took over), its event loop alive in a task that had not ended when
    cancelled. Ending now is as safe as the SIGKILL every write already survives."""
    import threading

    import structlog

    def end() -> None:
        structlog.get_logger("usertrail").warning("shutdown_stuck", after_s=seconds)
        os._exit(1)

    timer = threading.Timer(seconds, end)
    timer.daemon = True
    timer.start()


async def _stdin_closed() -> None:
    """Until the parent `serve` is gone: its end of our stdin closes, even on SIGKILL; and,
    should that be missed, we find ourselves handed to another parent (checked each second:
    a child was once seen outliving its server)."""
    import asyncio

    loop = asyncio.get_running_loop()
    closed = loop.create_future()
    parent = os.getppid()

    def readable() -> None:
        if not os.read(sys.stdin.fileno(), 4096) and not closed.done():
            closed.set_result(None)

    loop.add_reader(sys.stdin.fileno(), readable)
    try:
        while not closed.done() and os.getppid() == parent:
            await asyncio.wait([closed], timeout=1.0)
    finally:
        loop.remove_reader(sys.stdin.fileno())


actions_app = typer.Typer(
    help="Trigger action deliveries (webhooks, emails).",
    no_args_is_help=True,
    rich_markup_mode=MARKUP,
)
app.add_typer(actions_app, name="actions")


@actions_app.command("list")
def actions_list(
    failed: Annotated[bool, typer.Option("--failed", help="Only dead (failed) deliveries")] = False,
    limit: Annotated[int, typer.Option(help="At most this many, newest first")] = 50,
    data_dir: Annotated[Path, DATA_DIR] = DEFAULT_DATA_DIR,
) -> None:
    """Deliveries with their status, attempts and last error."""
    from rich.table import Table

    from usertrail.model.actions import DEAD

    rows = _with_runtime(
        data_dir, lambda rt: rt.outbox.deliveries(status=DEAD if failed else None, limit=limit)
    )
    table = Table(
        "id", "trigger", "person", "kind", "status", "attempts", "next attempt", "last error"
    )
    for d in rows:
        table.add_row(
            str(d.id),
            f"{d.trigger} #{d.threshold}",
            d.anchor_id,
            d.kind,
            d.status,
            str(d.attempts),
            d.next_attempt.isoformat(timespec="seconds"),
            d.last_error or "",
        )
    Console(width=None if sys.stdout.isatty() else 200).print(table)  # pipes get whole rows


@actions_app.command("retry")
def actions_retry(
    ids: Annotated[
        list[int] | None, typer.Argument(help="Delivery ids; none: every dead one")
    ] = None,
    data_dir: Annotated[Path, DATA_DIR] = DEFAULT_DATA_DIR,
) -> None:
    """Send dead deliveries again (the running service picks them up within a second)."""
    from usertrail.services.ingest import utc_now

    count = _with_runtime(data_dir, lambda rt: rt.outbox.retry(utc_now(), ids or ()))
    typer.echo(f"{count} dead deliveries queued again")


def _with_runtime(data_dir: Path, job: Callable[[Runtime], Awaitable[T]]) -> T:
    import asyncio

    from usertrail.wiring import build_runtime

    runtime = build_runtime(settings_from(data_dir=data_dir))

    async def main() -> T:
        try:
            return await job(runtime)
        finally:
            await runtime.close()

    return asyncio.run(main())
