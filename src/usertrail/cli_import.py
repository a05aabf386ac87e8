"""`usertrail import posthog`: bring a project's PostHog history in through the ingest path."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from usertrail.core.backfill import MAX_PAGE, Position
from usertrail.errors import UsertrailError

if TYPE_CHECKING:
    from usertrail.services.backfill import Backfill

import_app = typer.Typer(help="Bring history in from elsewhere.", no_args_is_help=True)
KEY_ENV = "POSTHOG_PERSONAL_API_KEY"


def _when(text: str, option: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"not a date or time: {text!r}", param_hint=option) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@import_app.command("posthog")
def import_posthog(
    host: Annotated[str, typer.Option(help="PostHog's app host, e.g. https://us.posthog.com")],
    project_id: Annotated[str, typer.Option(help="The PostHog project's numeric id")],
    since: Annotated[str, typer.Option(help="First event time to import (ISO date or time, UTC)")],
    until: Annotated[
        str | None, typer.Option(help="Import events before this time (default: all)")
    ] = None,
    project: Annotated[str, typer.Option(help="The usertrail project to import into")] = "default",
    page_size: Annotated[int, typer.Option(min=1, max=MAX_PAGE, help="Events per query")] = 10_000,
    data_dir: Annotated[Path | None, typer.Option(help="Data directory")] = None,
) -> None:
    """Import events from PostHog's query API (personal API key with Query Read, from the
    POSTHOG_PERSONAL_API_KEY environment variable). Deduplicated by uuid, so a re-run, or an
    overlap with live traffic, stores nothing twice; an interrupted run resumes where it
    stopped. The running server processes what was imported (or the next `usertrail serve`)."""
    from usertrail.cli import _settings
    from usertrail.wiring import build_runtime, posthog_import

    console = Console(stderr=True, soft_wrap=True)
    key = os.environ.get(KEY_ENV)
    if not key:
        raise typer.BadParameter(f"set {KEY_ENV} to a personal API key", param_hint=KEY_ENV)
    start, end = _when(since, "--since"), _when(until, "--until") if until else None
    runtime = build_runtime(_settings(data_dir=data_dir, demo=False))
    name = f"posthog:{host.rstrip('/')}:{project_id}:{project}:{start.isoformat()}:{end}"

    def waiting(why: str, seconds: float) -> None:
        console.print(f"[yellow]{escape(why)}: waiting {seconds:.0f} s[/]")

    def warning(why: str) -> None:
        console.print(f"[yellow]{escape(why)}[/]")

    async def main() -> tuple[int, Backfill]:
        backfill, close = posthog_import(
            runtime, host, project_id, key, page_size=page_size, on_wait=waiting, on_warn=warning
        )
        span = ((end or datetime.now(UTC)) - start).total_seconds()
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[events]:,} events"),
            TimeElapsedColumn(),
        )
        try:
            if await runtime.projects.by_id(project) is None:
                raise typer.BadParameter(f"no project {project!r}", param_hint="--project")
            with Progress(*columns, console=console) as progress:
                task = progress.add_task("importing", total=max(span, 1.0), events=0)

                def advance(n: int, at: Position) -> None:
                    done = (at.timestamp - start).total_seconds()
                    events = progress.tasks[task].fields["events"] + n
                    progress.update(
                        task,
                        completed=done,
                        events=events,
                        description=f"up to {at.timestamp:%Y-%m-%d %H:%M}",
                    )

                if resumed := await backfill.resume_point(name):
                    console.print(f"resuming after {resumed.timestamp.isoformat()}")
                return await backfill.run(name, project, start, end, advance), backfill
        finally:
            await close()
            await runtime.close()

    try:
        read, backfill = asyncio.run(main())
    except UsertrailError as exc:  # PostHog refused, or stayed away: the position is saved
        console.print(f"[red]import stopped: {escape(exc.detail)}[/]")
        raise typer.Exit(1) from None
    _report_skipped(console, backfill)
    console.print(f"read {read:,} events from PostHog; {backfill.stored:,} were new to usertrail")


def _report_skipped(console: Console, backfill: Backfill) -> None:
    """Rows PostHog holds that capture would refuse: counted, and the first ones named."""
    if not backfill.skipped:
        return
    console.print(
        f"[yellow]skipped {backfill.skipped:,} rows that are no events usertrail takes:[/]"
    )
    for row in backfill.skipped_rows:
        console.print(f"  {escape(repr(row.uuid))}: {escape(row.why)}")
    if backfill.skipped > len(backfill.skipped_rows):
        console.print(f"  and {backfill.skipped - len(backfill.skipped_rows):,} more")
