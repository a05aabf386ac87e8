"""The project file's schema (DESIGN.md rule 5): what a product's pages, components, features
and funnels are. Strict (`extra="forbid"`), so a typo is an error with its path, not a no-op."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PathRule(_Strict):
    """PostHog's path cleaning: `re.sub(regex, alias, path)`, applied in order."""

    regex: str
    alias: str

    @field_validator("regex")
    @classmethod
    def _compiles(cls, regex: str) -> str:
        try:
            re.compile(regex)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return regex

    @model_validator(mode="after")
    def _alias_fits(self) -> PathRule:
        try:
            re.compile(self.regex).sub(self.alias, "")
        except (re.error, IndexError) as exc:
            raise ValueError(f"alias does not fit the regex: {exc}") from None
        return self


class FeatureSpec(_Strict):
    name: str | None = None  # the readable name; by default the key, humanized
    description: str = ""
    events: tuple[str, ...] = ()  # event names that mean "this feature was used"
    clicks: tuple[str, ...] = ()  # CSS selectors (or 'text') of clicks that mean the same


class FunnelStep(_Strict):
    page: str | None = None  # a page view, by readable page name
    event: str | None = None  # an event name
    click: str | None = None  # a CSS selector, or the readable component/element name

    @model_validator(mode="after")
    def _exactly_one(self) -> FunnelStep:
        given = [k for k in ("page", "event", "click") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError("a step names exactly one of page, event or click")
        return self


class FunnelSpec(_Strict):
    description: str = ""
    steps: tuple[FunnelStep, ...] = Field(min_length=2)


def _default_funnels() -> dict[str, FunnelSpec]:
    """With no project file, the funnel almost every SaaS has: choosing a plan on Billing."""
    steps = (FunnelStep(page="Billing"), FunnelStep(event="plan_selected"))
    return {"plan_selection": FunnelSpec(description="Choose a plan", steps=steps)}


class ProjectConfig(_Strict):
    pages: dict[str, str] = {}  # route template or glob -> readable page name
    path_cleaning: tuple[PathRule, ...] = ()
    components: dict[str, str] = {}  # CSS selector -> readable component name
    features: dict[str, FeatureSpec] = {}
    funnels: dict[str, FunnelSpec] = Field(default_factory=_default_funnels)
    session_timeout_minutes: int = Field(default=30, ge=1, le=24 * 60)
    mask_pii: bool = True
    triggers: tuple[dict[str, Any], ...] = ()  # validated by the actions stage
    sinks: tuple[dict[str, Any], ...] = ()
