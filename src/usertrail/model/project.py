"""Tenants: a project has a public write token and a secret read key (docs/design.md rule 7)."""

from __future__ import annotations

import re

import msgspec


class Project(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    token: str  # public, write-only: what posthog-js carries ("phc_...")
    api_key: str  # secret, read: what the chatbot backend carries ("utk_...")
    webhook_secret: str  # shared secret of the PostHog HTTP Webhook destination


# Ids appear in URLs, file names under the data dir and log lines: keep them plain.
PROJECT_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
PROJECT_ID_RULE = (
    "1 to 63 characters: lowercase letters, digits, '-' and '_', starting with a letter or digit"
)


def valid_project_id(project_id: str) -> bool:
    return PROJECT_ID_PATTERN.fullmatch(project_id) is not None
