"""Tenants: a project has a public write token and a secret read key (DESIGN.md rule 7)."""

from __future__ import annotations

import msgspec


class Project(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    token: str  # public, write-only: what posthog-js carries ("phc_...")
    api_key: str  # secret, read: what the chatbot backend carries ("utk_...")
    webhook_secret: str  # shared secret of the PostHog HTTP Webhook destination
