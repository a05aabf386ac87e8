"""An account's context (a PostHog group): who is active, what the account does, its patterns
and its members' recent activity; and the accounts a user belongs to. Pure: `now` is an
argument."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import msgspec

from usertrail.core.context.safe import safe
from usertrail.core.groups import group_properties
from usertrail.core.patterns import PatternInput, detect_patterns
from usertrail.core.posthog_events import is_activity
from usertrail.model.account import (
    Account,
    AccountContext,
    AccountEvent,
    AccountMember,
    AccountUsage,
)
from usertrail.model.config import ProjectConfig
from usertrail.model.context import Pattern
from usertrail.model.counter import Counter
from usertrail.model.event import Event
from usertrail.model.group import GroupData, GroupState

ACTIVE_DAYS = 7
MAX_PROPERTIES = 30
MAX_MEMBERS = 20
MAX_USAGE = 8
_USAGE_PREFIXES = (("feature:", "feature"), ("page:", "page"))


class AccountOptions(msgspec.Struct, frozen=True, kw_only=True):
    n: int = 20  # recent events
    max_tokens: int | None = None
    mask_pii: bool = True  # the project file's `mask_pii`: the account service sets it


def account_of(group: GroupState, *, mask_pii: bool = True) -> Account:
    """One group with its properties, cleaned and masked as person properties are."""
    return Account(
        type=safe(group.group_type, mask_pii=False, limit=64) or "",
        key=safe(group.group_key, mask_pii=mask_pii, limit=120) or "",
        properties=safe_properties(group_properties(group.updates), mask_pii=mask_pii),
        first_seen=group.first_seen,
        last_seen=group.last_seen,
    )


def person_accounts(groups: Sequence[GroupState], *, mask_pii: bool = True) -> tuple[Account, ...]:
    """The accounts a user acted in, most recently active first."""
    return tuple(account_of(g, mask_pii=mask_pii) for g in groups)


def safe_properties(values: dict[str, Any], *, mask_pii: bool) -> dict[str, Any]:
    """Scalars only, keys and strings bounded and masked; `$`-keys and unknowns (None) say
    nothing to the model and cost tokens."""
    kept: dict[str, Any] = {}
    for key, value in sorted(values.items()):
        name = safe(str(key), mask_pii=False, limit=60)
        if not name or str(key).startswith("$") or value is None:
            continue
        if isinstance(value, bool | int | float):
            kept[name] = value
        elif isinstance(value, str):
            kept[name] = safe(value, mask_pii=mask_pii)
        if len(kept) == MAX_PROPERTIES:
            break
    return kept


def build_account(
    data: GroupData, config: ProjectConfig, options: AccountOptions, now: datetime
) -> AccountContext:
    counters = dict(data.counters)
    members = tuple(_member(m.key, m.first_seen, m.last_seen, options) for m in data.members)
    since = now - timedelta(days=ACTIVE_DAYS)
    return AccountContext(
        account=account_of(data.group, mask_pii=options.mask_pii),
        member_count=data.member_count,
        active_members=sum(1 for m in data.members if m.last_seen >= since),
        members=members[:MAX_MEMBERS],
        usage=usage(counters),
        patterns=tuple(_patterns(counters, dict(data.set_sizes), config, now, options)),
        recent_events=_events(data, options),
        generated_at=now,
    )


def _member(key: str, first: datetime, last: datetime, options: AccountOptions) -> AccountMember:
    shown = safe(key, mask_pii=options.mask_pii, limit=80) or ""
    return AccountMember(id=shown, first_seen=first, last_seen=last)


def usage(counters: dict[str, Counter]) -> tuple[AccountUsage, ...]:
    """Features used and pages opened over all members, most used first."""
    found = [
        AccountUsage(kind=kind, name=key[len(prefix) :], count=c.count, last_seen=c.last)
        for key, c in counters.items()
        for prefix, kind in _USAGE_PREFIXES
        if key.startswith(prefix)
    ]
    found.sort(key=lambda u: (-u.count, u.kind, u.name))
    return tuple(found[:MAX_USAGE])


def _patterns(
    counters: dict[str, Counter],
    set_sizes: dict[str, int],
    config: ProjectConfig,
    now: datetime,
    options: AccountOptions,
) -> list[Pattern]:
    """The person detectors over the members' summed counters: the account's patterns."""
    found = detect_patterns(
        PatternInput(counters=counters, now=now, config=config, set_sizes=set_sizes)
    )
    return [
        msgspec.structs.replace(
            p, summary=safe(p.summary, mask_pii=options.mask_pii, limit=240) or ""
        )
        for p in found
    ]


def _events(data: GroupData, options: AccountOptions) -> tuple[AccountEvent, ...]:
    person_of = {d: m.key for m in data.members for d in m.distinct_ids}
    wanted = (data.group.group_type, data.group.group_key)
    # Only what happened in this account: a member's events in their other accounts, or
    # before they joined it, are not the account's.
    inside = [e for e in data.events if is_activity(e.kind) and wanted in e.groups]
    chosen = inside[-options.n :] if options.n else []
    return tuple(_event(e, person_of.get(e.distinct_id, e.distinct_id), options) for e in chosen)


def _event(e: Event, person: str, options: AccountOptions) -> AccountEvent:
    mask = options.mask_pii
    return AccountEvent(
        ts=e.timestamp,
        user=safe(person, mask_pii=mask, limit=80) or "",
        type=e.kind,
        label=safe(e.label, mask_pii=mask, limit=200) or e.name,
        page=safe(e.page, mask_pii=mask),
    )
