"""Snapshots of what users see: the JSON report and the table, with volatile fields pinned.

Regenerate after an intended change: ``UPDATE_SNAPSHOTS=1 pytest tests/test_report_snapshot.py``.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from siem_consensus import FirewallReport, analyze_firewall
from siem_consensus.export import EXPORT_FORMATS
from siem_consensus.generators.firewall import scenario_1
from siem_consensus.render import render_markdown, render_table

SNAPSHOTS = Path(__file__).parent / "__snapshots__"


@pytest.fixture(scope="module")
def report() -> FirewallReport:
    result = analyze_firewall(scenario_1(seed=7), input_format="asa")
    return result.model_copy(
        update={"generated_at": datetime(2026, 1, 18, 17, 0, tzinfo=UTC), "timings": {}}
    )


def _check(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; see the module docstring"


def test_json_report_snapshot(report: FirewallReport) -> None:
    _check("firewall_report.json", json.dumps(report.to_dict(), indent=2, sort_keys=True) + "\n")


def test_table_snapshot(report: FirewallReport) -> None:
    _check("firewall_report.txt", render_table(report) + "\n")


def test_markdown_snapshot(report: FirewallReport) -> None:
    _check("firewall_report.md", render_markdown(report))


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("ecs", "firewall_export_ecs.ndjson"),
        ("ocsf", "firewall_export_ocsf.json"),
        ("stix", "firewall_export_stix.json"),
        ("markdown", "firewall_export.md"),
        ("html", "firewall_export.html"),
    ],
)
def test_export_snapshots(report: FirewallReport, fmt: str, name: str) -> None:
    if fmt == "stix":
        pytest.importorskip("stix2")
    _check(name, EXPORT_FORMATS[fmt](report))
