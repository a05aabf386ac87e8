"""Cutting an erased person's lines out of a sink file and the files it rotated into."""

from __future__ import annotations

from pathlib import Path

import orjson

from usertrail.adapters.jsonl import JsonlSinkFile
from usertrail.adapters.jsonl_purge import remove_lines


def line(uuid: str, who: str = "someone") -> bytes:
    return orjson.dumps({"uuid": uuid, "distinct_id": who, "input_prompt": "x" * 200})


def uuids_in(*files: Path) -> list[str]:
    return [orjson.loads(raw)["uuid"] for f in files for raw in f.read_bytes().splitlines()]


def rotated_sink(tmp_path: Path) -> tuple[JsonlSinkFile, Path]:
    """Ten lines, appended one by one past a 1 KiB rotation size: several files."""
    path = tmp_path / "training_data.jsonl"
    sink = JsonlSinkFile(path, max_bytes=1024)
    for i in range(10):
        sink.append([line(f"u{i}", "gone-id" if i in (1, 8) else "someone")])
    return sink, path


def test_lines_are_cut_from_the_current_and_the_rotated_files(tmp_path: Path) -> None:
    sink, path = rotated_sink(tmp_path)
    files = sorted(tmp_path.glob("training_data*.jsonl"))
    assert len(files) > 2

    assert sink.remove({"u1", "u8"}) == 2

    assert uuids_in(*sorted(tmp_path.glob("training_data.*.jsonl")), path) == [
        f"u{i}" for i in range(10) if i not in (1, 8)
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in files)


def test_files_without_such_lines_are_not_rewritten(tmp_path: Path) -> None:
    sink, path = rotated_sink(tmp_path)
    before = {p: p.stat().st_ino for p in tmp_path.iterdir()}

    sink.remove({"u9"})

    after = {p: p.stat().st_ino for p in tmp_path.iterdir()}
    assert [p for p in before if before[p] != after[p]] == [path]  # only the one holding u9
    assert sink.remove({"u9"}) == 0  # a second purge finds nothing: idempotent


def test_a_torn_last_line_and_other_sinks_are_left_as_they_are(tmp_path: Path) -> None:
    path = tmp_path / "training_data.jsonl"
    other = tmp_path / "training_data.v2.jsonl"
    other.write_bytes(line("u1") + b"\n")
    path.write_bytes(line("u1") + b"\n" + line("u2") + b"\n" + b'{"uuid": "u3", "tor')
    path.chmod(0o600)

    assert remove_lines(path, {"u1"}) == 1  # as found after a crash, before it is reopened

    assert path.read_bytes() == line("u2") + b"\n" + b'{"uuid": "u3", "tor'
    assert other.read_bytes() == line("u1") + b"\n"
    assert path.stat().st_mode & 0o777 == 0o600  # the rewritten file keeps its permissions
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
