"""The client's answer types. The user context and retrieval are the server's own structs
(usertrail.model, usertrail.retrieval.model), so client and server share one definition."""

from __future__ import annotations

from typing import Any

import msgspec

from usertrail.model.account import AccountContext
from usertrail.model.context import (
    ContextEvent,
    Pattern,
    Recommendation,
    SessionSnapshot,
    UserContext,
    UserInfo,
)
from usertrail.model.privacy import ErasureReport
from usertrail.retrieval.model import Hit, Retrieval, Signal

# Everything stored about a person (GET /persons/{id}/export): raw events, derived events,
# ids, counters, firings, sink lines. A JSON document whose sections grow with the product.
PersonExport = dict[str, Any]


class Assisted(msgspec.Struct, frozen=True, kw_only=True):
    """POST /assist: the answer, where it came from, and what it was built from."""

    answer: str
    answer_source: str  # "llm" or "template"
    model: str | None
    llm_error: str | None
    prompt: str
    retrieval: Retrieval
    recommendations: tuple[Recommendation, ...]


__all__ = [
    "AccountContext",
    "Assisted",
    "ContextEvent",
    "ErasureReport",
    "Hit",
    "Pattern",
    "PersonExport",
    "Recommendation",
    "Retrieval",
    "SessionSnapshot",
    "Signal",
    "UserContext",
    "UserInfo",
]
