"""The project file's schema (docs/design.md rule 5): what a product's pages, components, features
and funnels are. Strict (`extra="forbid"`), so a typo is an error with its path, not a no-op."""

from __future__ import annotations

import re

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
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


# --- triggers and sinks (core.triggers, core.sinks) ----------------------------------------

PropertyValue = str | int | float | bool
Where = dict[str, PropertyValue | tuple[PropertyValue, ...]]  # equals, or one of a list


class EventFilter(_Strict):
    event: str  # the PostHog event name
    where: Where = {}  # event properties


class WebhookSpec(_Strict):
    url: str = Field(pattern=r"^https?://")
    # The environment variable holding the Standard Webhooks signing secret (`whsec_…`).
    secret_env: str | None = None


class EmailSpec(_Strict):
    """Jinja templates (sandboxed) over `person`, `trigger`, `count` and `event`."""

    to: str = "{{ person.properties.email }}"
    subject: str
    body: str

    @field_validator("to", "subject", "body")
    @classmethod
    def _parses(cls, source: str) -> str:
        try:
            SandboxedEnvironment().parse(source)
        except TemplateSyntaxError as exc:
            raise ValueError(f"not a valid template: {exc}") from None
        return source


class ActionSpec(_Strict):
    webhook: WebhookSpec | None = None
    email: EmailSpec | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ActionSpec:
        if (self.webhook is None) == (self.email is None):
            raise ValueError("an action is exactly one of webhook or email")
        return self


class TriggerSpec(_Strict):
    """When a person's count of matching events reaches a threshold, run the actions once."""

    description: str = ""
    when: EventFilter
    person: Where = {}  # person properties the person must have when a threshold is reached
    nth: int | None = Field(default=None, ge=1)  # fire at the nth event
    every: int | None = Field(default=None, ge=1)  # fire at every multiple
    first: bool = False  # fire at the first event (nth: 1)
    window_minutes: int | None = Field(default=None, ge=1)  # count only this recent history
    actions: tuple[ActionSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_count_rule(self) -> TriggerSpec:
        rules = [r for r in ("nth", "every", "first") if getattr(self, r)]
        if len(rules) != 1:
            raise ValueError("a trigger has exactly one count rule: nth, every or first")
        return self


class SinkSpec(_Strict):
    """Matching events appended as one JSON object per line, PII redacted."""

    description: str = ""
    when: EventFilter
    properties: tuple[str, ...] = ()  # event properties copied into each line
    path: str  # relative paths are under the data directory
    max_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)  # rotate past this size


class PosthogSpec(_Strict):
    """The PostHog this project's events are relayed to, and its SDK endpoints proxied to."""

    host: str = Field(pattern=r"^https?://[^/\s]+")  # e.g. https://us.i.posthog.com
    # Where PostHog serves /static/ (array.js, recorder, surveys); by default `host`, or
    # PostHog Cloud's assets host for a Cloud ingestion host.
    assets_host: str | None = Field(default=None, pattern=r"^https?://[^/\s]+")
    # The PostHog project token, when it differs from the usertrail project's token.
    token: str | None = Field(default=None, min_length=1)


class ProjectConfig(_Strict):
    pages: dict[str, str] = {}  # route template or glob -> readable page name
    path_cleaning: tuple[PathRule, ...] = ()
    components: dict[str, str] = {}  # CSS selector -> readable component name
    features: dict[str, FeatureSpec] = {}
    funnels: dict[str, FunnelSpec] = Field(default_factory=_default_funnels)
    session_timeout_minutes: int = Field(default=30, ge=1, le=24 * 60)
    mask_pii: bool = True
    triggers: dict[str, TriggerSpec] = {}
    sinks: dict[str, SinkSpec] = {}
    # Help articles (Markdown with front matter), relative to the project file.
    help_docs: str | None = None
    # Relay and proxy to PostHog (usertrail.core.relay, web.proxy); None: events stay here.
    posthog: PosthogSpec | None = None
