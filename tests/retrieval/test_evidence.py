"""Behaviour evidence: ties weighed by how few articles share them, plus the signals' words."""

from __future__ import annotations

from pathlib import Path

import pytest

from usertrail.retrieval.evidence import behaviour_evidence, signal_parts, specificity
from usertrail.retrieval.index import HelpIndex, load_help_index
from usertrail.retrieval.model import Signal, SignalKind

ARTICLES = {
    "alerts.md": "---\ntitle: Alerts\npages: [Report]\n---\n# Alerts\n\nCreate a new alert on a "
    "report to get an email when a number crosses a threshold.\n",
    "charts.md": "---\ntitle: Charts\npages: [Report]\n---\n# Charts\n\nPick a line chart in "
    "**Chart type**, then click **Save**.\n",
    "sharing.md": "---\ntitle: Sharing\npages: [Report]\n---\n# Sharing\n\nShare by link, "
    "then click **save**.\n",
    "export-errors.md": "---\ntitle: Export failed\npages: [Report]\nerrors: [E42]\n---\n"
    "# Export failed\n\n## E42 export timed out\nThe export took too long.\n",
}


@pytest.fixture
def index(tmp_path: Path) -> HelpIndex:
    for name, text in ARTICLES.items():
        (tmp_path / name).write_text(text)
    return load_help_index(tmp_path)


def signal(kind: SignalKind, value: str, terms: tuple[str, ...] = ()) -> Signal:
    return Signal(kind=kind, value=value, terms=terms, weight=1.0, reason=f"{kind} {value}")


def test_a_signal_few_articles_share_says_more_than_one_many_share() -> None:
    assert specificity(1, 33) == 1.0
    assert specificity(2, 33) > specificity(12, 33) > specificity(33, 33) > 0
    assert specificity(0, 33) == 0.0


def test_a_page_every_article_names_weighs_less_than_an_error_one_names(
    index: HelpIndex,
) -> None:
    page = signal_parts(index, signal("page", "Report", ("report",)))
    error = signal_parts(index, signal("error", "ExportError: E42 export timed out"))
    assert set(page) == {"alerts", "charts", "sharing", "export-errors"}
    assert error["export-errors"] > 2 * page["export-errors"]


def test_a_click_text_points_at_the_article_that_uses_its_words(index: HelpIndex) -> None:
    parts = signal_parts(index, signal("click", "New alert", ("new", "alert")))
    assert max(parts, key=lambda slug: parts[slug]) == "alerts"


def test_evidence_adds_up_over_signals_and_gives_the_strongest_reason_first(
    index: HelpIndex,
) -> None:
    signals = [signal("page", "Report"), signal("error", "E42 export timed out", ("e42",))]
    evidence = behaviour_evidence(index, signals)
    assert evidence["export-errors"].score > evidence["charts"].score
    assert evidence["export-errors"].reasons[0] == "error E42 export timed out"
    assert "page Report" in evidence["export-errors"].reasons


def test_a_click_on_a_control_an_article_names_in_bold_points_at_it(index: HelpIndex) -> None:
    parts = signal_parts(index, signal("click", "Chart type", ("chart", "type")))
    assert max(parts, key=lambda slug: parts[slug]) == "charts"
    assert parts["charts"] >= 1.0


def test_a_control_many_articles_name_points_at_each_of_them_less(index: HelpIndex) -> None:
    chart_type = signal_parts(index, signal("click", "Chart type"))
    save = signal_parts(index, signal("click", "Save"))
    assert set(save) == {"charts", "sharing"}
    assert chart_type["charts"] > save["charts"]


def test_the_index_knows_the_controls_its_articles_name(index: HelpIndex) -> None:
    assert index.controls["chart type"] == frozenset({"charts"})
    assert index.controls["save"] == frozenset({"charts", "sharing"})
