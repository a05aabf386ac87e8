"""`serve` on a taken port, `replay` against a live data directory, `projects create` ids:
the real command in a subprocess."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.backends import pg_schema_url
from tests.live import LiveServer, LiveWorker, _environment


def usertrail(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "usertrail", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=_environment({"COLUMNS": "200", **(env or {})}),
    )


def test_a_taken_port_is_said_before_any_credential_with_a_free_one_to_use(
    tmp_path: Path,
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        run = usertrail("serve", "--port", str(port), "--data-dir", str(tmp_path), "--no-demo")
    assert run.returncode == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in run.stderr
    assert "usertrail serve --port " in run.stderr
    assert "USERTRAIL_PORT=" in run.stderr
    assert "utk_" not in run.stderr + run.stdout  # no banner, no key
    assert not (tmp_path / "usertrail.db").exists()  # nothing was built


def test_replay_refuses_a_data_directory_a_live_server_uses(tmp_path: Path) -> None:
    server = LiveServer(data_dir=tmp_path / "data", env={"USERTRAIL_DEMO": "0"}).start()
    try:
        run = usertrail("replay", "--data-dir", str(server.data_dir))
        assert run.returncode == 1, run.stderr
        assert "a usertrail server or worker is using this data" in run.stderr
        assert "--force" in run.stderr
        forced = usertrail("replay", "--data-dir", str(server.data_dir), "--force")
        assert forced.returncode == 0, forced.stderr
    finally:
        server.stop()
    after = usertrail("replay", "--data-dir", str(server.data_dir))
    assert after.returncode == 0, after.stderr  # the lock went with the server


def test_replay_refuses_a_data_directory_a_worker_uses(tmp_path: Path) -> None:
    worker = LiveWorker(data_dir=tmp_path / "data").start()
    try:
        run = usertrail("replay", "--data-dir", str(worker.data_dir))
        assert run.returncode == 1
        assert "is busy" in run.stderr
    finally:
        worker.stop()


def test_a_server_killed_hard_leaves_no_lock_behind(tmp_path: Path) -> None:
    server = LiveServer(data_dir=tmp_path / "data", env={"USERTRAIL_DEMO": "0"}).start()
    server.kill()
    run = usertrail("replay", "--data-dir", str(server.data_dir))
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize("command", [["replay"], ["prune", "--days", "30"]])
def test_replay_and_prune_draw_one_progress_bar(command: list[str], tmp_path: Path) -> None:
    """As a terminal shows it (FORCE_COLOR makes rich draw as on a TTY)."""
    run = usertrail(*command, "--data-dir", str(tmp_path), env={"FORCE_COLOR": "1"})
    assert run.returncode == 0, run.stderr
    frames = re.split(r"[\r\n]", re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", run.stderr))
    last = next(frame for frame in reversed(frames) if "━" in frame)
    assert len(re.findall("[━╸╺]+", last)) == 1, last


def test_a_project_id_outside_the_rule_is_refused_with_the_rule(tmp_path: Path) -> None:
    run = usertrail("projects", "create", "Bad Id!", "--data-dir", str(tmp_path))
    assert run.returncode == 2
    assert "lowercase letters, digits" in run.stderr
    listed = usertrail("projects", "list", "--data-dir", str(tmp_path))
    assert "Bad Id!" not in listed.stdout


def test_a_plain_project_id_is_created(tmp_path: Path) -> None:
    run = usertrail("projects", "create", "acme-2", "--data-dir", str(tmp_path))
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("token=phc_")


def test_check_config_says_each_problem_once_with_a_guess(tmp_path: Path) -> None:
    path = tmp_path / "acme.yaml"
    path.write_text("features:\n  export: {event: report_exported}\n")
    run = usertrail("check-config", str(path))
    assert run.returncode == 1
    assert run.stderr.splitlines()[1:] == [
        f"{path}: 1 error(s)",
        "  features.export.event: unknown key; did you mean 'events'?",
    ]


def test_replay_refuses_a_postgresql_database_a_live_server_uses(tmp_path: Path) -> None:
    with pg_schema_url() as url:
        env = {"USERTRAIL_DATABASE_URL": url, "USERTRAIL_DEMO": "0"}
        server = LiveServer(data_dir=tmp_path / "server", env=env).start()
        try:
            # Another data directory: only the database is shared, as across machines.
            run = usertrail("replay", "--data-dir", str(tmp_path / "elsewhere"), env=env)
            assert run.returncode == 1, run.stderr
            assert "the database is busy" in run.stderr
        finally:
            server.stop()
        after = usertrail("replay", "--data-dir", str(tmp_path / "elsewhere"), env=env)
        assert after.returncode == 0, after.stderr


def test_the_data_lock_is_owner_only_even_one_an_older_version_left_readable(
    tmp_path: Path,
) -> None:
    """flock needs only read access: a lock file others could read, they could lock, and no
    server would start (replay would say one is running)."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "usertrail.lock").touch(mode=0o644)
    (data / "usertrail.lock").chmod(0o644)
    server = LiveServer(data_dir=data, env={"USERTRAIL_DEMO": "0"}).start()
    try:
        assert (data / "usertrail.lock").stat().st_mode & 0o777 == 0o600
    finally:
        server.stop()
