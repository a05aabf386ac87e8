"""Which parts of a label, a summary or a pattern came from an event (untrusted), so the
context can quote them as data. Names the project file declares are the only trusted ones."""

from __future__ import annotations

import msgspec

from usertrail.core.context.safe import IDENTIFIER, plain_word, quote_fragments, safe
from usertrail.core.text import clean_text, humanize
from usertrail.model.config import ProjectConfig
from usertrail.model.context import Pattern
from usertrail.model.event import Event

# The evidence keys whose values a detector copied from events into its summary.
_EVIDENCE_KEYS = ("element", "page", "feature", "error")


class Trusted(msgspec.Struct, frozen=True, kw_only=True):
    names: frozenset[str]

    @classmethod
    def of(cls, config: ProjectConfig) -> Trusted:
        features = (spec.name or humanize(key) for key, spec in config.features.items())
        names = (*config.pages.values(), *config.components.values(), *features)
        return cls(names=frozenset(names))

    def untrusted(self, *values: str | None) -> tuple[str, ...]:
        return tuple(v for v in values if v and v not in self.names)


def event_label(e: Event, trusted: Trusted, mask_pii: bool, limit: int = 200) -> str:
    """The event's label as the context shows it: its untrusted parts quoted, then made safe."""
    label = quote_fragments(e.label, event_fragments(e, trusted))
    return safe(label, mask_pii=mask_pii, limit=limit) or safe(e.name, mask_pii=mask_pii) or "event"


def event_fragments(e: Event, trusted: Trusted) -> tuple[str, ...]:
    """The strings `labels.label` put bare into this event's label."""
    role = (e.element or "").split(" ", 1)[0]
    named = not e.name.startswith("$") and e.kind in ("custom", "error")
    return trusted.untrusted(
        e.page,
        e.component,
        e.feature,
        None if plain_word(role) else role,
        clean_text(humanize(e.name), 60) if named else None,
        *(_key(k) for k in e.properties if e.kind == "custom"),
    )


def _key(key: str) -> str | None:
    """A property key shown before its quoted value: one identifier-like word reads as itself
    (`format 'csv'`) and cannot carry a sentence; anything else is quoted."""
    key = clean_text(key, 30)
    return None if IDENTIFIER.fullmatch(key) else key


def evidence_fragments(p: Pattern, trusted: Trusted) -> tuple[str, ...]:
    values = (p.evidence.get(k) for k in _EVIDENCE_KEYS)
    return trusted.untrusted(*(v for v in values if isinstance(v, str)))
