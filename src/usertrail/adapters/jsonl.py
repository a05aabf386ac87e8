"""A JSON-lines sink file: whole lines only, durable on return, rotated by size.

Each append is one `write` of whole lines to an O_APPEND descriptor followed by fsync. A crash
can still leave a partial last line (the kernel may have written part of the buffer); it is
cut when the file is opened again, before anything else is appended.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from pathlib import Path

from usertrail.adapters.jsonl_purge import fsync_dir, remove_lines

_TAIL_BLOCK = 64 * 1024


class JsonlSinkFile:
    def __init__(self, path: Path, max_bytes: int = 100 * 1024 * 1024) -> None:
        self._path = path
        self._max_bytes = max_bytes
        path.parent.mkdir(parents=True, exist_ok=True)
        _cut_torn_tail(path)

    def append(self, lines: Sequence[bytes]) -> None:
        if any(b"\n" in line for line in lines):
            raise ValueError("a sink line must not contain a newline")
        if not lines:
            return
        if self._size() >= self._max_bytes:
            self._rotate()
        fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, b"".join(line + b"\n" for line in lines))
            os.fsync(fd)
        finally:
            os.close(fd)

    def remove(self, uuids: Collection[str]) -> int:
        """Cut these events' lines from this file and the files it rotated into."""
        return remove_lines(self._path, uuids)

    def last_line(self) -> bytes | None:
        """The last whole line, reading only the end of the file."""
        if not self._path.is_file():
            return None
        with self._path.open("rb") as f:
            end = f.seek(0, os.SEEK_END)
            tail = b""
            while end > 0:
                start = max(0, end - _TAIL_BLOCK)
                f.seek(start)
                tail = f.read(end - start) + tail
                end = start
                lines = tail.rstrip(b"\n").split(b"\n")
                if len(lines) > 1 or end == 0:
                    return lines[-1] or None
        return None

    def _size(self) -> int:
        try:
            return self._path.stat().st_size
        except FileNotFoundError:
            return 0

    def _rotate(self) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        self._path.rename(self._path.with_name(f"{self._path.stem}.{stamp}{self._path.suffix}"))
        fsync_dir(self._path.parent)


def _cut_torn_tail(path: Path) -> None:
    if not path.is_file() or path.stat().st_size == 0:
        return
    with path.open("r+b") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return
        position = size
        while position > 0:  # find the last newline, block by block from the end
            start = max(0, position - _TAIL_BLOCK)
            f.seek(start)
            block = f.read(position - start)
            if (cut := block.rfind(b"\n")) >= 0:
                f.truncate(start + cut + 1)
                break
            position = start
        else:
            f.truncate(0)
        f.flush()
        os.fsync(f.fileno())
