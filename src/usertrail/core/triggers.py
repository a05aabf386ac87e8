"""Triggers as pure functions: which events count, which thresholds are due, what to send.

The store counts, in the transaction that stores the events: a count is the number of
distinct matching event uuids over all of a person's ids; core.settle decides that a threshold
fires only if no firing for it exists on any of those ids. Both are idempotent, so
re-processing, duplicates and merges never fire twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

import msgspec
from jinja2 import Template
from jinja2.sandbox import SandboxedEnvironment

from usertrail.model.actions import (
    EmailMessage,
    Message,
    NewFiring,
    RenderedAction,
    WebhookMessage,
)
from usertrail.model.config import ActionSpec, EventFilter, ProjectConfig, TriggerSpec, Where
from usertrail.model.identity import MergeEdge
from usertrail.model.raw import RawEvent


class TriggerHit(msgspec.Struct, frozen=True, kw_only=True):
    """An event that counts toward a trigger."""

    project_id: str
    trigger: str
    distinct_id: str
    uuid: str
    timestamp: datetime


class TriggerCheck(msgspec.Struct, frozen=True, kw_only=True):
    """A person whose count for a trigger may have changed (a new hit, or a merge)."""

    project_id: str
    trigger: str
    spec: TriggerSpec
    distinct_id: str
    event_uuid: str
    event_name: str
    timestamp: datetime


class FiringContext(msgspec.Struct, frozen=True, kw_only=True):
    """What a firing's messages may mention: the person as the store knows them now."""

    person_key: str
    distinct_ids: tuple[str, ...]
    properties: dict[str, Any]
    count: int


def where_matches(where: Where, values: Mapping[str, Any]) -> bool:
    """Every key equals its value, or one of its values when a list is given."""
    for key, expected in where.items():
        actual = values.get(key)
        if isinstance(expected, tuple):
            if actual not in expected:
                return False
        elif actual != expected:
            return False
    return True


def event_matches(when: EventFilter, raw: RawEvent) -> bool:
    return raw.event == when.event and where_matches(when.where, raw.properties)


def hits_and_checks(
    raw: RawEvent, config: ProjectConfig
) -> Iterator[tuple[TriggerHit, TriggerCheck]]:
    for name, spec in config.triggers.items():
        if event_matches(spec.when, raw):
            hit = TriggerHit(
                project_id=raw.project_id,
                trigger=name,
                distinct_id=raw.distinct_id,
                uuid=raw.uuid,
                timestamp=raw.timestamp,
            )
            check = TriggerCheck(
                project_id=raw.project_id,
                trigger=name,
                spec=spec,
                distinct_id=raw.distinct_id,
                event_uuid=raw.uuid,
                event_name=raw.event,
                timestamp=raw.timestamp,
            )
            yield hit, check


def merge_checks(project_id: str, edge: MergeEdge, config: ProjectConfig) -> list[TriggerCheck]:
    """A merge adds two persons' counts together, so every trigger is checked again."""
    return [
        TriggerCheck(
            project_id=project_id,
            trigger=name,
            spec=spec,
            distinct_id=edge.distinct_id,
            event_uuid=edge.uuid,
            event_name=f"${edge.kind}",
            timestamp=edge.timestamp,
        )
        for name, spec in config.triggers.items()
    ]


def due_thresholds(spec: TriggerSpec, count: int, fired: set[int]) -> list[int]:
    """The thresholds `count` has reached that have not fired yet, lowest first."""
    if spec.every:
        reached = range(spec.every, count + 1, spec.every)
    else:
        nth = spec.nth or 1  # `first` is nth 1
        reached = range(nth, nth + 1) if count >= nth else range(0)
    return [t for t in reached if t not in fired]


def fire(
    check: TriggerCheck, threshold: int, person: FiringContext, fired_at: datetime
) -> NewFiring:
    variables = _variables(check, threshold, person, fired_at)
    return NewFiring(
        project_id=check.project_id,
        trigger=check.trigger,
        threshold=threshold,
        anchor_id=person.person_key,
        event_uuid=check.event_uuid,
        fired_at=fired_at,
        actions=tuple(_action(action, variables) for action in check.spec.actions),
    )


def _action(action: ActionSpec, variables: dict[str, Any]) -> RenderedAction:
    """A message, or why none can be sent (recorded as a dead delivery, never retried)."""
    kind = "webhook" if action.webhook is not None else "email"
    try:
        message = _message(action, variables)
    except Exception as exc:  # templates run user code: a failure must not stall the pipeline
        return RenderedAction(kind=kind, message=None, error=f"template failed: {exc}")
    if isinstance(message, EmailMessage) and "@" not in message.to:
        reason = f"no recipient address (`to` rendered as {message.to!r})"
        return RenderedAction(kind=kind, message=message, error=reason)
    return RenderedAction(kind=kind, message=message)


def _variables(
    check: TriggerCheck, threshold: int, person: FiringContext, fired_at: datetime
) -> dict[str, Any]:
    return {
        "type": "usertrail.trigger.fired",
        "trigger": check.trigger,
        "description": check.spec.description,
        "threshold": threshold,
        "count": person.count,
        "fired_at": fired_at.isoformat(),
        "person": {
            "id": person.person_key,
            "distinct_ids": list(person.distinct_ids),
            "properties": person.properties,
        },
        "event": {
            "uuid": check.event_uuid,
            "event": check.event_name,
            "distinct_id": check.distinct_id,
            "timestamp": check.timestamp.isoformat(),
        },
    }


def _message(action: ActionSpec, variables: dict[str, Any]) -> Message:
    if action.webhook is not None:
        return WebhookMessage(
            url=action.webhook.url, body=variables, secret_env=action.webhook.secret_env
        )
    email = action.email
    assert email is not None  # ActionSpec holds exactly one
    return EmailMessage(
        to=_render(email.to, variables).strip(),
        subject=one_line(_render(email.subject, variables)),
        text=_render(email.body, variables),
    )


def one_line(text: str) -> str:
    """A header's value on one line: each line break (every one `str.splitlines` knows, as the
    email package does) becomes one space. Nothing else changes: a no-break space in a name
    stays one (`str.split()` also split on it, so the subject no longer named the person)."""
    return " ".join(line.strip(" \t") for line in text.splitlines() if line.strip(" \t"))


_templates = SandboxedEnvironment(autoescape=False)


@lru_cache(maxsize=256)
def _template(source: str) -> Template:
    return _templates.from_string(source)


def _render(source: str, variables: dict[str, Any]) -> str:
    return _template(source).render(variables)
