"""A project's config as the processor reads it for every event, worked out once per config:
features, triggers and sinks indexed by event name, funnel steps by what they match.

The derive step asked the same questions of the same config for every event (a loop over every
feature, trigger, sink and funnel step); the answers depend on the config alone. A ProjectConfig
is frozen and never changed in place, so its compiled form is kept while the config is in use:
the registry holds the config itself, so a config's id cannot come to name another config.
"""

from __future__ import annotations

from typing import TypeVar

from usertrail.core.text import humanize
from usertrail.model.config import EventFilter, ProjectConfig

MAX_COMPILED = 256  # configs in use at once: one per project (tests build many more)
MAX_REMEMBERED = 4096  # results per cache: a product repeats a few hundred URLs and chains
FunnelSlot = tuple[int, str, int]  # (position among all steps, funnel, step index)
Place = tuple[str | None, str | None, str | None, str | None]  # url, path, route, route's page
# A click's component, element, element text and the funnel selectors its chain matched.
Interaction = tuple[str | None, str | None, str | None, tuple[str, ...]]
_Spec = TypeVar("_Spec")
_K = TypeVar("_K")
_V = TypeVar("_V")


class CompiledConfig:
    """Indexes over one ProjectConfig. Equal and hashed by identity, so it can key caches."""

    __slots__ = (
        "autocapture_features",
        "clicked_features",
        "config",
        "feature_by_event",
        "funnel_by_event",
        "funnel_by_page",
        "funnel_clicks",
        "funnel_selectors",
        "interactions",
        "pages",
        "places",
        "sinks_by_event",
        "triggers_by_event",
    )

    def __init__(self, config: ProjectConfig) -> None:
        self.config = config
        features = [(spec.name or humanize(key), spec) for key, spec in config.features.items()]
        # The first configured feature whose events name the event wins.
        self.feature_by_event: dict[str, str] = {}
        for name, spec in features:
            for event in spec.events:
                self.feature_by_event.setdefault(event, name)
        # An `$autocapture` is, in order, a use of a feature that names `$autocapture` (None:
        # no selector to match) or whose click selectors match the chain.
        self.autocapture_features: tuple[tuple[str, tuple[str, ...] | None], ...] = tuple(
            (name, None if "$autocapture" in spec.events else spec.clicks)
            for name, spec in features
            if "$autocapture" in spec.events or spec.clicks
        )
        self.funnel_selectors: tuple[str, ...] = tuple(
            sorted({s.click for f in config.funnels.values() for s in f.steps if s.click})
        )
        self.funnel_by_page: dict[str, list[FunnelSlot]] = {}
        self.funnel_by_event: dict[str, list[FunnelSlot]] = {}
        self.funnel_clicks: list[tuple[FunnelSlot, str | None]] = []
        steps = [(n, i, s) for n, f in config.funnels.items() for i, s in enumerate(f.steps)]
        for position, (name, index, step) in enumerate(steps):
            slot = (position, name, index)
            if step.page is not None:  # a step names a page, else an event, else a click
                self.funnel_by_page.setdefault(step.page, []).append(slot)
            elif step.event is not None:
                self.funnel_by_event.setdefault(step.event, []).append(slot)
            else:
                self.funnel_clicks.append((slot, step.click))
        self.triggers_by_event = _by_event({k: (s.when, s) for k, s in config.triggers.items()})
        self.sinks_by_event = _by_event({k: (s.when, s) for k, s in config.sinks.items()})
        # core.normalize's results for this config, by URL, route and click chain. Dicts of
        # texts, not lru_caches keyed by this object: a key holding an object the garbage
        # collector tracks is never untracked, so every miss added one to the oldest
        # generation and full collections ran again and again when no URL repeated.
        self.places: dict[tuple[str | None, str | None], Place] = {}
        self.pages: dict[str, str | None] = {}  # by route
        self.interactions: dict[str, Interaction] = {}
        self.clicked_features: dict[str, str | None] = {}


def _by_event(
    specs: dict[str, tuple[EventFilter, _Spec]],
) -> dict[str, list[tuple[str, _Spec]]]:
    """(name, spec) by the event its filter names, in configured order."""
    found: dict[str, list[tuple[str, _Spec]]] = {}
    for name, (when, spec) in specs.items():
        found.setdefault(when.event, []).append((name, spec))
    return found


def remember(cache: dict[_K, _V], key: _K, value: _V) -> _V:
    """Keep `value` in a bounded cache: when full it starts over, cheaper than an LRU's
    bookkeeping on every hit."""
    if len(cache) >= MAX_REMEMBERED:
        cache.clear()
    cache[key] = value
    return value


_compiled: dict[int, CompiledConfig] = {}


def compiled(config: ProjectConfig) -> CompiledConfig:
    """The config's compiled form, made on first use."""
    found = _compiled.get(id(config))
    if found is not None and found.config is config:
        return found
    if len(_compiled) >= MAX_COMPILED:
        _compiled.clear()  # a server has a handful of projects: only tests get here
    made = _compiled[id(config)] = CompiledConfig(config)
    return made
