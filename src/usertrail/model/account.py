"""Accounts (PostHog groups) as the chatbot receives them: in a user's context, and on their
own (GET /context/group/{type}/{key})."""

from __future__ import annotations

from datetime import datetime

import msgspec

from usertrail.model.context import Account, Pattern

__all__ = ["Account", "AccountContext", "AccountEvent", "AccountMember", "AccountUsage"]


class AccountMember(msgspec.Struct, frozen=True, kw_only=True):
    id: str  # the person key
    first_seen: datetime
    last_seen: datetime  # last activity in the account


class AccountUsage(msgspec.Struct, frozen=True, kw_only=True):
    """What the account does: a feature used or a page opened, over all its members."""

    kind: str  # feature | page
    name: str
    count: int
    last_seen: datetime


class AccountEvent(msgspec.Struct, frozen=True, kw_only=True):
    ts: datetime
    user: str  # the person key
    type: str
    label: str
    page: str | None = None


class AccountContext(msgspec.Struct, frozen=True, kw_only=True):
    account: Account
    member_count: int
    active_members: int  # members active in the last ACTIVE_DAYS days
    members: tuple[AccountMember, ...]  # most recently active first
    usage: tuple[AccountUsage, ...]  # most used first
    patterns: tuple[Pattern, ...]
    recent_events: tuple[AccountEvent, ...]  # oldest first
    generated_at: datetime | None = None
    truncated: bool = False
