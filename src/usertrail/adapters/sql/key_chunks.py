"""(project, uuid) keys cut for `project_id = ? AND uuid IN (...)`: the one shape every read or
delete of a set of events by key takes, with a bound on each statement's parameters."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

EventKey = tuple[str, str]  # (project id, uuid)
# uuids per statement where nothing asks for more: far under SQLite's bound on parameters
# (32,766) and PostgreSQL's (65,535), and small enough that SQLAlchemy's expanding IN
# compiles quickly.
KEYS_PER_STATEMENT = 500


def project_chunks(keys: Iterable[EventKey], per: int) -> Iterator[tuple[str, list[str]]]:
    """(project, up to `per` of its uuids) covering `keys`, each project's in the order given.

    `keys` should be distinct (a set): a repeat is only a wasted parameter, but still one.
    """
    by_project: dict[str, list[str]] = {}
    for project_id, uuid in keys:
        by_project.setdefault(project_id, []).append(uuid)
    for project_id, uuids in by_project.items():
        for start in range(0, len(uuids), per):
            yield project_id, uuids[start : start + per]
