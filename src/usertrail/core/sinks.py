"""Sinks as pure functions: a matching event -> one JSON line, PII redacted, or nothing.

Redaction fails closed: if it raises on a record, the record is dropped (and counted by the
store) rather than written unredacted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import orjson

from usertrail.core.decode import json_safe
from usertrail.core.redact import redact
from usertrail.core.triggers import event_matches
from usertrail.model.actions import SinkRecord
from usertrail.model.config import ProjectConfig, SinkSpec
from usertrail.model.raw import RawEvent

Redactor = Callable[[str], str]


def sink_records(
    raw: RawEvent, config: ProjectConfig, redactor: Redactor = redact
) -> Iterator[SinkRecord]:
    for name, spec in config.sinks.items():
        if event_matches(spec.when, raw):
            yield SinkRecord(
                project_id=raw.project_id,
                sink=name,
                uuid=raw.uuid,
                distinct_id=raw.distinct_id,
                path=spec.path,
                line=sink_line(spec, raw, redactor),
            )


def sink_line(spec: SinkSpec, raw: RawEvent, redactor: Redactor = redact) -> bytes | None:
    """The line for one event; None when redaction, or writing the line, failed (fail
    closed: an event holding a value no line can hold still gets the rest of processing)."""
    props = raw.properties
    user_data = {
        "event": raw.event,
        "distinct_id": raw.distinct_id,
        **{key: props.get(key) for key in spec.properties},
    }
    try:
        redacted = _redact_values(user_data, redactor)
        # The project: every project but the demo writes the same configured file.
        record = {
            "uuid": raw.uuid,
            "project_id": raw.project_id,
            "timestamp": raw.timestamp.isoformat(),
            **redacted,
        }
        return orjson.dumps(record)
    except Exception:  # any detector failure drops the record, never leaks it
        return None


def _redact_values(value: Any, redactor: Redactor) -> Any:
    """`value` as the JSON orjson writes, every string in it redacted, keys too: whatever
    holds them (a tuple from a RawEvent built in code, a dataclass, an enum...), no string
    reaches the line unredacted."""
    if isinstance(value, str):
        return redactor(value)
    if isinstance(value, dict):
        return {_redact_key(k, redactor): _redact_values(v, redactor) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_values(item, redactor) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return json_safe(value)  # an int past 64 bits from a body built in code: as a float
    # Anything else orjson writes (dataclass, enum, UUID, datetime...), as what it writes.
    return _redact_values(orjson.loads(orjson.dumps(value)), redactor)


def _redact_key(key: Any, redactor: Redactor) -> Any:
    return redactor(key) if isinstance(key, str) else key  # orjson refuses the others
