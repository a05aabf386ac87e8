"""The prompt linter (tests/context/lint.py): each rule catches its defect, and the blocks built
for the whole corpus (demo flows, recorded SDK payloads, generated and hostile traces) pass."""

from __future__ import annotations

import msgspec
import pytest

from tests.context.corpus import PLANTED, Case, all_cases
from tests.context.lint import lint
from usertrail.core.context.build import ContextOptions

CASES = all_cases()
CLEAN = """## What this user has been doing

Preamble.

**User** `user_42`, first seen 2026-11-20, last seen 2026-11-20 10:07:20 UTC.

### Last session
Session of 1 second: 1 event. Hit an error: 'Export failed' on Billing.

### Recent activity (newest first)
- 2026-11-20 10:07:00 UTC Clicked 'Save' button in 'Plan picker' on Billing
"""


def test_a_clean_block_passes() -> None:
    assert lint(CLEAN, PLANTED) == []


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("Session of 1 second: 1 events.", "number and noun disagree"),
        ("Opened Billing 3 time.", "number and noun disagree"),
        ("Hit 1 error: Hit an error: Generation failed.", "repeated phrase"),
        ("opened Data sources once; used Data sources once.", "repeated phrase"),
        ("**User** `01a20d2d-c5a9-7b82-980d-84670943beb7`, first seen", "raw UUID"),
        ("- Clicked None on Billing", "None/null"),
        ("- 2026-11-20 10:07:00 UTC Triggered Set", "Triggered <PostHog event>"),
        ("- 2026-11-20 10:07:00 UTC Triggered 'Feature flag called'", "Triggered <PostHog event>"),
        ("- 2026-11-20 10:07:00 UTC Triggered $web_vitals", "Triggered <PostHog event>"),
        ("- Viewed ![x](https://evil.example/y.png)", "Markdown link or image"),
        ("- Viewed [here](https://evil.example)", "Markdown link or image"),
        ("- Signed up as jane@example.com", "unmasked email"),
    ],
)
def test_each_rule_catches_its_defect(line: str, rule: str) -> None:
    assert any(p.startswith(rule + ":") for p in lint(CLEAN + line + "\n")), rule


def test_an_empty_section_and_planted_strings_are_caught() -> None:
    block = CLEAN + "\n### Patterns\n"
    hostile = CLEAN + f"- Viewed {PLANTED[0]} page\n- Called '{PLANTED[2]}'\n"
    assert lint(block) == ["empty section: ### Patterns"]
    assert [p.split(":")[0] for p in lint(hostile, PLANTED)] == ["unmasked", "unquoted"]


def params(cases: list[Case]) -> list[object]:
    return [pytest.param(c, id=c.id) for c in cases]


@pytest.mark.parametrize("case", params(CASES))
@pytest.mark.parametrize("budget", [None, 300, 1500])
def test_every_block_of_the_corpus_passes_the_linter(case: Case, budget: int | None) -> None:
    block = case.context(ContextOptions(format="markdown", max_tokens=budget)).prompt or ""
    assert lint(block, PLANTED if case.id.startswith("hostile/") else ()) == []


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.id.startswith("hostile/")], ids=lambda c: c.id
)
def test_the_json_object_of_a_hostile_trace_masks_and_neutralises_every_string(
    case: Case,
) -> None:
    ctx = case.context(ContextOptions())
    text = msgspec.json.encode(msgspec.structs.replace(ctx, prompt=None)).decode()
    assert PLANTED[0] in text  # the hostile strings are there, as data
    for planted in PLANTED[1:]:
        assert planted not in text
    assert "](" not in text
    assert "![" not in text
