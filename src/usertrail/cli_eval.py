"""`usertrail eval`: measure usertrail's quality on its evaluation sets."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from usertrail.cli_options import MARKUP, console

eval_app = typer.Typer(
    help="Measure usertrail's quality on its evaluation sets.", rich_markup_mode=MARKUP
)


@eval_app.command("retrieval")
def eval_retrieval(
    cases: Annotated[
        list[Path] | None,
        typer.Option(help="Cases YAML; repeat for several (default: the five shipped sets)"),
    ] = None,
    project_file: Annotated[
        Path | None, typer.Option(help="Project file naming help_docs (default: the demo's)")
    ] = None,
    markdown: Annotated[bool, typer.Option(help="Print the table as Markdown")] = False,
    verbose: Annotated[bool, typer.Option(help="Also list every case's ranks")] = False,
) -> None:
    """Help retrieval with and without behaviour: recall@1, recall@5 and MRR.

    On ambiguous and unambiguous questions. Exits 1 if any unambiguous question ranks its
    article lower with behaviour than without.
    """
    from usertrail.demo.project import DEMO_PROJECT_FILE
    from usertrail.errors import ConfigError
    from usertrail.retrieval.evaluation import harness

    try:
        report = harness.run_eval(cases or harness.DEFAULT_CASES, project_file or DEMO_PROJECT_FILE)
    except (ConfigError, ValueError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    out = Console(width=None if sys.stdout.isatty() else 120)
    if verbose:
        out.print(harness.per_case(report))
    if markdown:
        typer.echo(harness.markdown(report) + "\n\n" + harness.section_markdown(report))
    else:
        out.print(harness.table(report), harness.section_table(report))
    if report.regressed():
        dropped = ", ".join(report.dropped()) or "as a whole"
        console.print(
            f"[red]behaviour-aware retrieval is worse on unambiguous questions: {dropped}[/]"
        )
        raise typer.Exit(1)
