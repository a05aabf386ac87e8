from __future__ import annotations

from pathlib import Path

import pytest

from usertrail.errors import ConfigError
from usertrail.project_file import load_project_file

EXAMPLE = Path(__file__).parents[2] / "examples" / "acme.usertrail.yaml"


def test_example_project_file_is_valid() -> None:
    config = load_project_file(EXAMPLE)
    assert config.pages["/settings/billing"] == "Billing"
    assert "plan_selection" in config.funnels


def test_every_error_is_listed_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "pages: {'/': 3}\n"
        "features:\n  export: {events: report_exported, colour: red}\n"
        "funnels:\n  plans: {steps: [{page: Billing}]}\n"
        "sesion_timeout_minutes: 10\n"
    )
    with pytest.raises(ConfigError) as err:
        load_project_file(path)
    message = err.value.detail
    for where in (
        "pages./",
        "features.export.events",
        "features.export.colour",
        "funnels.plans.steps",
        "sesion_timeout_minutes",
    ):
        assert where in message


def test_yaml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("pages:\n  '/': Home\n   bad: [\n")
    with pytest.raises(ConfigError, match="line"):
        load_project_file(path)


def test_funnel_step_must_name_exactly_one_thing(tmp_path: Path) -> None:
    path = tmp_path / "step.yaml"
    path.write_text("funnels:\n  f: {steps: [{page: A, event: b}, {event: c}]}\n")
    with pytest.raises(ConfigError, match="exactly one"):
        load_project_file(path)
