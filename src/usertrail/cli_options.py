"""What the `usertrail` commands share: the console, settings from flags, common options."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final

import typer
from rich.console import Console
from rich.markup import escape

from usertrail.settings import Settings

if TYPE_CHECKING:
    from usertrail.wiring import Runtime

# Help texts are Markdown, not rich markup: rich would swallow `[env USERTRAIL_…]` as a tag,
# and Markdown joins a docstring's wrapped lines in the command list.
MARKUP: Final = "markdown"
console = Console(stderr=True, soft_wrap=True)  # never break a token or URL across lines


def settings_from(**flags: object) -> Settings:
    """CLI flags win over USERTRAIL_* env, which wins over defaults."""
    given = {k: v for k, v in flags.items() if v is not None}
    return Settings(**given)  # type: ignore[arg-type]


def setting(name: str, help: str, *decls: str) -> Any:
    """An option that reads USERTRAIL_<NAME>, with the env var and the default in its help."""
    return typer.Option(*decls, help=help, envvar=f"USERTRAIL_{name.upper()}", show_envvar=True)


# Options default to the settings' defaults, so `--help` shows them (and the value, from the
# flag, the env var or the default, always reaches Settings: the same precedence).
DEFAULTS: dict[str, Any] = {name: f.default for name, f in Settings.model_fields.items()}
DEFAULT_DATA_DIR: Path = DEFAULTS["data_dir"]


DATA_DIR = setting("data_dir", "Data directory (the SQLite database, sink files)")
PROJECT_FILE = setting("project_file", "Project YAML")


def hold_database_or_exit(runtime: Runtime, *, exclusive: bool) -> Callable[[], None]:
    """PostgreSQL's side of `hold_or_exit` (a no-op on SQLite); returns the release."""
    from usertrail.data_lock import DATA_IN_USE, REPLAY_RUNNING
    from usertrail.wiring import live_lock

    lock = live_lock(runtime)
    if lock.try_hold(exclusive=exclusive):
        return lock.release
    console.print(f"[red]the database is busy:[/] {DATA_IN_USE if exclusive else REPLAY_RUNNING}")
    raise typer.Exit(1)


def hold_or_exit(settings: Settings, *, exclusive: bool) -> IO[str] | None:
    from usertrail.data_lock import DataDirBusy, hold_exclusively, hold_while_serving

    try:
        return hold_exclusively(settings) if exclusive else hold_while_serving(settings)
    except DataDirBusy as busy:
        console.print(f"[red]{escape(str(settings.data_dir))} is busy:[/] {escape(busy.detail)}")
        raise typer.Exit(1) from None
