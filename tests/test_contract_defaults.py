"""One default policy and threshold per detector, the same in the API, graphs, CLI and docs."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from siem_consensus import api
from siem_consensus.api import DECISION_DEFAULTS
from siem_consensus.cli import main
from siem_consensus.cli._options import build_parser
from siem_consensus.graphs.auth import build_auth_graph
from siem_consensus.graphs.firewall import build_firewall_graph
from siem_consensus.graphs.ids import build_ids_graph
from siem_consensus.graphs.insider import build_insider_graph

ENTRIES: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "firewall": (api.analyze_firewall, build_firewall_graph),
    "ids": (api.correlate_ids_alerts, build_ids_graph),
    "insider": (api.detect_insider_threats, build_insider_graph),
    "auth": (api.analyze_auth, build_auth_graph),
}
SAMPLES = Path(__file__).parent / "data" / "parsers"
INPUTS = {
    "firewall": SAMPLES / "asa.log",
    "ids": SAMPLES / "ids" / "suricata_eve.jsonl",
    "insider": SAMPLES / "cert",
    "auth": SAMPLES / "openssh.log",
}


def test_the_documented_defaults() -> None:
    assert {k: tuple(v) for k, v in DECISION_DEFAULTS.items()} == {
        "firewall": ("unanimous", 0.8),
        "ids": ("majority", 0.8),
        "insider": ("unanimous", 0.85),
        "auth": ("unanimous", 0.8),
    }


@pytest.mark.parametrize("detector", sorted(ENTRIES))
def test_api_and_graph_signatures_use_the_defaults(detector: str) -> None:
    for function in ENTRIES[detector]:
        parameters = inspect.signature(function).parameters
        found = (parameters["policy"].default, parameters["threshold"].default)
        assert found == tuple(DECISION_DEFAULTS[detector]), function.__qualname__


@pytest.mark.parametrize("detector", sorted(ENTRIES))
def test_help_shows_each_detectors_default(detector: str) -> None:
    text = " ".join(build_parser()._subparsers._group_actions[0].choices[detector]  # type: ignore[union-attr]
                    .format_help().split())  # fmt: skip
    policy, threshold = DECISION_DEFAULTS[detector]
    assert f"(default: {policy})" in text
    assert f"(default: {threshold:g})" in text


def _run(capsys: pytest.CaptureFixture[str], tmp_path: Path, *argv: str) -> dict[str, Any]:
    command = argv[0]
    extra = []
    if command == "insider":
        extra = ["--checkpoint", str(tmp_path / "r.sqlite"), "--actions-log",
                 str(tmp_path / "a.sqlite")]  # fmt: skip
    assert main([*argv, "--format", "json", "--no-progress", *extra]) == 0
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    return report


@pytest.mark.parametrize("detector", sorted(ENTRIES))
def test_the_cli_applies_the_defaults_and_the_flags(
    detector: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _run(capsys, tmp_path, detector, str(INPUTS[detector]))
    assert (report["policy"], report["threshold"]) == tuple(DECISION_DEFAULTS[detector])
    flagged = _run(capsys, tmp_path, detector, str(INPUTS[detector]), "--policy", "weighted",
                   "--threshold", "0.66")  # fmt: skip
    assert (flagged["policy"], flagged["threshold"]) == ("weighted", 0.66)


def test_architecture_docs_table_matches() -> None:
    text = (Path(__file__).parents[1] / "docs" / "architecture.md").read_text()
    rows = re.findall(r"^\| (firewall|ids|insider|auth) \| (\w+) \| ([\d.]+) \|$", text, re.M)
    assert {name: (policy, float(t)) for name, policy, t in rows} == {
        k: tuple(v) for k, v in DECISION_DEFAULTS.items()
    }
