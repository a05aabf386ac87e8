"""Cutting lines (by event uuid) out of a JSON-lines sink file and its rotated predecessors.

Each file holding a line to cut is rewritten, not edited in place: the kept lines go to a
temporary file beside it, which is fsynced and renamed over the original, and then the
directory is fsynced. A crash leaves the old file or the new one, never a mix, and the purge
is simply done again (it is idempotent). Files with nothing to cut are left untouched.

Only the sink writer calls this, between its appends, so no append can land in the old file
after it was read.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Collection
from pathlib import Path

import orjson


def remove_lines(path: Path, uuids: Collection[str]) -> int:
    """Remove the lines of these events from `path` and its rotated files; returns how many."""
    return sum(_rewrite(file, uuids) for file in [*rotated(path), path] if file.is_file())


def rotated(path: Path) -> list[Path]:
    """Files `path` was rotated into: `name.<UTC stamp>.ext` beside it (JsonlSinkFile)."""
    pattern = re.compile(rf"{re.escape(path.stem)}\.\d{{8}}T\d+{re.escape(path.suffix)}")
    if not path.parent.is_dir():
        return []
    return sorted(p for p in path.parent.iterdir() if pattern.fullmatch(p.name))


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _rewrite(file: Path, uuids: Collection[str]) -> int:
    temp = file.with_name(f".{file.name}.purge")
    removed = 0
    with file.open("rb") as source, temp.open("wb") as kept:
        for line in source:
            if _uuid_of(line) in uuids:
                removed += 1
            else:
                kept.write(line)  # byte for byte, a torn last line included
        if removed:
            kept.flush()
            os.fsync(kept.fileno())
    if not removed:
        temp.unlink()
        return 0
    os.chmod(temp, stat.S_IMODE(file.stat().st_mode))
    os.replace(temp, file)
    fsync_dir(file.parent)
    return removed


def _uuid_of(line: bytes) -> str | None:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None  # a torn last line: kept, and cut by the next open
    uuid = value.get("uuid") if isinstance(value, dict) else None
    return uuid if isinstance(uuid, str) else None
