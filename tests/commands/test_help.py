"""`usertrail --help` and each command's help, as a user reads them in a terminal."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest


def usertrail_help(*args: str) -> str:
    run = subprocess.run(
        [sys.executable, "-m", "usertrail", *args, "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={"COLUMNS": "100", "PATH": "/usr/bin:/bin", "TERM": "dumb"},
    )
    return run.stdout


def test_bracketed_env_names_in_help_texts_are_printed() -> None:
    assert "[env USERTRAIL_DATABASE_URL]" in usertrail_help("migrate")


def test_serve_help_shows_each_default_and_env_var() -> None:
    text = usertrail_help("serve")
    for env, default in [
        ("USERTRAIL_HOST", "127.0.0.1"),
        ("USERTRAIL_PORT", "8000"),
        ("USERTRAIL_DATA_DIR", ".usertrail"),
        ("USERTRAIL_ROLE", "all"),
    ]:
        assert f"[env var: {env}]" in text
        assert f"[default: {default}]" in text
    assert "[env var: USERTRAIL_PROJECT_FILE]" in text


@pytest.mark.parametrize("command", ["prune", "worker", "migrate"])
def test_each_command_takes_one_line_of_its_own_in_the_command_list(command: str) -> None:
    """A docstring's wrapped lines used to start new lines in the list, as if a new row."""
    rows = [line for line in usertrail_help().splitlines() if line.startswith("│ ")]
    names = [re.match(r"│ (\S*)", row).group(1) for row in rows]  # type: ignore[union-attr]
    start = names.index(command)
    summary_rows = 1 + next(i for i, name in enumerate(names[start + 1 :]) if name)
    assert summary_rows <= 2  # a sentence, wrapped once at most at 100 columns
