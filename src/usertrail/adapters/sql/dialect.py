"""The few places SQLite and PostgreSQL SQL differ, in one module."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement


def insert_for(conn: Connection, table: Table) -> Any:
    """An INSERT that supports ON CONFLICT for the connection's dialect."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def least(conn: Connection, a: Any, b: Any) -> ColumnElement[Any]:
    return func.least(a, b) if conn.dialect.name == "postgresql" else func.min(a, b)


def greatest(conn: Connection, a: Any, b: Any) -> ColumnElement[Any]:
    return func.greatest(a, b) if conn.dialect.name == "postgresql" else func.max(a, b)


def counter_upsert_sql(conn: Connection) -> str:
    """Add to per-person counters: positional (project, distinct id, key, count, first, last)."""
    postgres = conn.dialect.name == "postgresql"
    mark = "%s" if postgres else "?"
    low, high = ("LEAST", "GREATEST") if postgres else ("MIN", "MAX")
    return (
        "INSERT INTO counters (project_id, distinct_id, key, count, first_us, last_us) "
        f"VALUES ({', '.join([mark] * 6)}) "
        "ON CONFLICT (project_id, distinct_id, key) DO UPDATE SET "
        "count = counters.count + excluded.count, "
        f"first_us = {low}(counters.first_us, excluded.first_us), "
        f"last_us = {high}(counters.last_us, excluded.last_us)"
    )


def member_insert_sql(conn: Connection) -> str:
    """Join distinct-count sets: positional (project, distinct id, set, member)."""
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    return (
        "INSERT INTO counter_members (project_id, distinct_id, set_key, member) "
        f"VALUES ({', '.join([mark] * 4)}) ON CONFLICT DO NOTHING"
    )
