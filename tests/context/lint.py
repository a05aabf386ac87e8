"""A linter for the Markdown block a chatbot puts in its prompt: every rule is a defect an LLM
would read (issue 17, "Check"). `lint` returns the problems found, each "rule: the line"."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from usertrail.core.text import humanize

# Event names PostHog's SDKs send themselves (posthog-js, posthog-python, posthog-node, the
# mobile SDKs, LLM analytics, surveys): each has a meaning, never "Triggered <name>".
POSTHOG_EVENTS = (
    "$set",
    "$set_once",
    "$groupidentify",
    "$feature_flag_called",
    "$feature_enrollment_update",
    "$feature_view",
    "$feature_interaction",
    "$web_vitals",
    "$exception",
    "$ai_generation",
    "$ai_span",
    "$ai_trace",
    "$ai_embedding",
    "$ai_metric",
    "$ai_feedback",
    "$survey_shown",
    "$survey_sent",
    "$survey_dismissed",
    "$rageclick",
    "$dead_click",
    "$pageleave",
    "$pageview",
    "$screen",
    "$autocapture",
    "$copy_autocapture",
    "$opt_in",
    "$identify",
    "$create_alias",
    "$merge_dangerously",
    "$web_experiment_applied",
    "$snapshot",
    "$app_installed",
    "$app_updated",
    "$app_opened",
    "$app_backgrounded",
)
_KNOWN_NAMES = "|".join(re.escape(humanize(e.lstrip("$"))) for e in POSTHOG_EVENTS)
_TRIGGERED_POSTHOG = re.compile(rf"Triggered ['`]?(\$|(?:{_KNOWN_NAMES})['`]?(?:\W|$))", re.I)
_NOUNS = r"event|error|session|time|day|minute|second|hour|week|use|click|page|step|visit"
_ONE_PLURAL = re.compile(rf"(?<![\d.,-])\b1 (?:{_NOUNS})s\b")
_MANY_SINGULAR = re.compile(rf"(?<![\d.,-])\b(?:0|[2-9]|\d{{2,}}) (?:{_NOUNS})\b(?![-'])")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_NULLS = re.compile(r"\b(?:None|null|undefined|NaN)\b")
_MARKDOWN_LINK = re.compile(r"!\[|\]\(|<img|<a\s|javascript:", re.I)
_QUOTED = re.compile(r"'[^'\n]*'|`[^`\n]*`")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+")  # also "doe@example com"
_VERBS = re.compile(r"\b(Hit|Clicked|Viewed|Used|Triggered|Opened|Submitted|Rage-clicked)\b")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def lint(block: str, planted: Sequence[str] = ()) -> list[str]:
    """`planted`: strings a hostile trace put in user-controlled fields; they may appear only
    inside quotes, and a planted email or phone never (it must be masked)."""
    problems = [f"{rule}: {line}" for line in block.splitlines() for rule in _line_rules(line)]
    problems += [f"empty section: {h}" for h in _empty_sections(block)]
    problems += [f"unmasked: {p}" for p in planted[1:] if p in block]
    if planted:
        problems += [f"unquoted: {line}" for line in block.splitlines() if planted[0] in bare(line)]
    return problems


def bare(line: str) -> str:
    """The line without its quoted spans: what the model reads as the product's own words."""
    return _QUOTED.sub("‹›", line)


def _line_rules(line: str) -> Iterator[str]:
    prose = bare(line)
    if _ONE_PLURAL.search(prose) or _MANY_SINGULAR.search(prose):
        yield "number and noun disagree"
    if _repeated_phrase(prose):
        yield "repeated phrase"
    if _UUID.search(line):
        yield "raw UUID"
    if _NULLS.search(prose):
        yield "None/null"
    if _TRIGGERED_POSTHOG.search(line):
        yield "Triggered <PostHog event>"
    if _MARKDOWN_LINK.search(line):
        yield "Markdown link or image"
    if _EMAIL.search(line):
        yield "unmasked email"


def _repeated_phrase(prose: str) -> bool:
    """The same verb twice in one sentence ("Hit 1 error: Hit an error: ..."), or the same
    three words twice in one line."""
    for sentence in _SENTENCE.split(prose):
        verbs = [m.group(1) for m in _VERBS.finditer(sentence)]
        if len(verbs) != len(set(verbs)):
            return True
    words = re.findall(r"[^\W\d_]+", prose.lower())
    triples = [tuple(words[i : i + 3]) for i in range(len(words) - 2)]
    return len(triples) != len(set(triples))


def _empty_sections(block: str) -> Iterator[str]:
    lines = block.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("#"):
            following = next((x for x in lines[i + 1 :] if x.strip()), None)
            if following is None or following.startswith("#"):
                yield line
