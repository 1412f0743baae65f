"""HTML and Markdown exports: self-contained, and log-derived text is always escaped."""

from __future__ import annotations

from pathlib import Path

import pytest

import siem_consensus
from siem_consensus.export import export_report, to_html, to_markdown
from siem_consensus.generators import firewall
from siem_consensus.render import render_markdown
from siem_consensus.report import Report

_EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def report() -> Report:
    return siem_consensus.analyze_firewall(firewall.scenario_1(seed=7), input_format="asa")


@pytest.fixture(scope="module")
def malicious(report: Report) -> Report:
    """The same report with attacker-controlled text in a title, a reason and a rationale."""
    incident = report.incidents[0].model_copy(update={"title": f"Port scan {_EVIL}"})
    decision = report.decision_for(incident.id)
    verdicts = (
        decision.verdicts[0].model_copy(update={"rationale": f'"><img src=x onerror=1>{_EVIL}'}),
        *decision.verdicts[1:],
    )
    decision = decision.model_copy(
        update={"reasons": (*decision.reasons, _EVIL), "verdicts": verdicts}
    )
    return report.model_copy(
        update={
            "incidents": (incident, *report.incidents[1:]),
            "decisions": (decision, *report.decisions[1:]),
        }
    )


def test_html_escapes_log_derived_text(malicious: Report) -> None:
    page = to_html(malicious)
    assert "<script" not in page.lower()
    assert "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_html_is_self_contained_with_timeline_and_verdicts(report: Report) -> None:
    page = to_html(report)
    assert page.startswith("<!DOCTYPE html>")
    assert "<svg" in page and page.count("<rect") == len(report.incidents)
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page and "<link" not in page
    for analyst in report.analysts:
        assert f"<th>{analyst}</th>" in page


def test_markdown_and_export_report(report: Report, tmp_path: Path) -> None:
    assert to_markdown(report) == render_markdown(report)
    path = tmp_path / "report.json"
    path.write_text(report.to_json(), encoding="utf-8")
    assert export_report(path, "markdown") == render_markdown(report)
    assert export_report(path, "html") == to_html(report)
