"""Read a live server's raw log straight from its SQLite file (what was durably stored)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson


def raw_rows(
    db_path: Path, where: str = "1=1", params: tuple[Any, ...] = ()
) -> list[dict[str, Any]]:
    with sqlite3.connect(db_path) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(f"SELECT * FROM raw_events WHERE {where} ORDER BY seq", params)
        return [{**dict(r), "body": orjson.loads(r["body"])} for r in rows]


def raw_uuids(db_path: Path) -> set[str]:
    with sqlite3.connect(db_path) as conn:
        return {r[0] for r in conn.execute("SELECT uuid FROM raw_events")}
