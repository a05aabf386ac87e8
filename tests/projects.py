"""A live server's projects, read straight from its SQLite file (e.g. the demo's credentials)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from usertrail.model.project import Project


def stored_project(db_path: Path, project_id: str) -> Project:
    with sqlite3.connect(db_path) as conn:
        row = conn.execute(
            "SELECT id, name, token, api_key, webhook_secret FROM projects WHERE id = ?",
            (project_id,),
        ).fetchone()
    assert row is not None, f"no project {project_id!r}"
    return Project(id=row[0], name=row[1], token=row[2], api_key=row[3], webhook_secret=row[4])


def project_ids(db_path: Path) -> set[str]:
    with sqlite3.connect(db_path) as conn:
        return {r[0] for r in conn.execute("SELECT id FROM projects")}
