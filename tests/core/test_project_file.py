from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from usertrail.demo.project import DEMO_PROJECT_FILE
from usertrail.errors import ConfigError
from usertrail.model.config import ProjectConfig
from usertrail.project_file import load_project_file, parse_project_file

EXAMPLE = DEMO_PROJECT_FILE


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


def test_wrong_shapes_are_named_in_yaml_words() -> None:
    with pytest.raises(
        ConfigError, match=r"features\.export\.events: Input should be a valid list"
    ):
        parse_project_file("features:\n  export: {events: report_exported}\n")


def test_a_duplicated_key_is_an_error_with_its_line() -> None:
    with pytest.raises(ConfigError, match=r"(?s)'/settings' twice.*line 3"):
        parse_project_file("pages:\n  /settings: Settings\n  /settings: Billing\n")


def test_path_cleaning_regexes_are_checked_at_load() -> None:
    text = "path_cleaning:\n  - {regex: '^/org/([^/]+', alias: /org/:org}\n"
    with pytest.raises(ConfigError, match=r"path_cleaning\.0\.regex: .*regular expression"):
        parse_project_file(text)


def test_path_cleaning_aliases_must_fit_their_regex() -> None:
    text = "path_cleaning:\n  - {regex: '^/org/', alias: '/org/\\2'}\n"
    with pytest.raises(ConfigError, match="alias does not fit"):
        parse_project_file(text)


def test_an_empty_file_is_the_default_config() -> None:
    assert parse_project_file("# nothing yet\n") == ProjectConfig()


def test_the_top_level_must_be_a_mapping() -> None:
    with pytest.raises(ConfigError, match="mapping"):
        parse_project_file("- pages\n")


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_project_file(tmp_path / "missing.yaml")


def test_the_loaded_config_is_frozen() -> None:
    config = load_project_file(EXAMPLE)
    with pytest.raises(ValidationError):
        config.session_timeout_minutes = 5  # type: ignore[misc]


def test_an_invalid_item_is_one_error_not_also_a_too_short_list() -> None:
    text = (
        "funnels:\n  plans: {steps: [{page: Billing}, {evnt: plan_selected}]}\n"
        "triggers:\n  t: {when: {event: x}, nth: 3, actions: [{webhook: {ur: 'https://x'}}]}\n"
    )
    with pytest.raises(ConfigError) as err:
        parse_project_file(text)
    assert err.value.detail.splitlines()[1:] == [
        "  funnels.plans.steps.1.evnt: unknown key; did you mean 'event'?",
        "  triggers.t.actions.0.webhook.ur: unknown key; did you mean 'url'?",
    ]


def test_a_list_too_short_whatever_its_items_is_still_said() -> None:
    with pytest.raises(ConfigError) as err:
        parse_project_file("funnels:\n  plans: {steps: [{evnt: plan_selected}]}\n")
    assert "funnels.plans.steps: needs at least 2 item(s), has 0" in err.value.detail
    assert "funnels.plans.steps.0.evnt" in err.value.detail


@pytest.mark.parametrize(
    ("text", "where", "meant"),
    [
        ("features:\n  export: {event: report_exported}\n", "features.export.event", "events"),
        ("sesion_timeout_minutes: 10\n", "sesion_timeout_minutes", "session_timeout_minutes"),
        ("posthog: {hots: 'https://eu.i.posthog.com'}\n", "posthog.hots", "host"),
    ],
)
def test_a_misspelt_key_gets_the_key_it_probably_meant(text: str, where: str, meant: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_project_file(text)
    assert f"{where}: unknown key; did you mean {meant!r}?" in err.value.detail


def test_an_unknown_key_like_no_other_gets_no_guess() -> None:
    with pytest.raises(ConfigError, match=r"colour: unknown key$"):
        parse_project_file("colour: red\n")


def test_a_yaml_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("pages:\n  '/': Home\n   bad: [\n")
    with pytest.raises(ConfigError) as err:
        load_project_file(path)
    assert f'in "{path}", line 3' in err.value.detail
    assert "<unicode string>" not in err.value.detail
