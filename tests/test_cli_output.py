"""Output for pipes and people: exit codes on findings, jsonl, filters, verbosity, defaults,
progress."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import run_main

from siem_consensus.cli import main
from siem_consensus.generators.firewall import scenario_1
from siem_consensus.testing import ProviderSimulator


@pytest.fixture
def asa_log(tmp_path: Path) -> Path:
    log = tmp_path / "asa.log"
    log.write_text("\n".join(scenario_1(seed=7)) + "\n")
    return log


def test_fail_on_alert_and_review(asa_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Scenario 1 has one alert and no review: only --fail-on alert fails."""
    assert main(["firewall", str(asa_log), "-q"]) == 0
    assert main(["firewall", str(asa_log), "-q", "--fail-on", "review"]) == 0
    assert main(["firewall", str(asa_log), "-q", "--fail-on", "alert"]) == 1
    assert main(["firewall", str(asa_log), "-q", "--fail-on", "review,alert"]) == 1


def test_fail_on_degraded_is_4(
    asa_log: Path, provider_simulator_env: ProviderSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "firewall",
        str(asa_log),
        "--analysts",
        "rules,claude",
        "--budget",
        "10tok",
        "--no-cache",
    ]
    assert main(args) == 0
    assert "1 decision(s) degraded" in capsys.readouterr().err
    assert main([*args, "--fail-on", "degraded"]) == 4
    assert main([*args, "--fail-on", "review"]) == 1  # degraded decisions are needs_review


def test_jsonl_is_one_ecs_document_per_decision(
    asa_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["firewall", str(asa_log), "--format", "jsonl", "-o", "-"]) == 0
    docs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(docs) == 1
    [doc] = docs
    assert doc["event"]["kind"] == "alert" and doc["siem_consensus"]["outcome"] == "alert"
    assert doc["siem_consensus"]["evidence_event_ids"][0].startswith("asa.log:")
    assert "source" in doc and "@timestamp" in doc


def test_min_severity_and_only_filter_what_is_shown(
    asa_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def shown(*flags: str) -> int:
        assert main(["firewall", str(asa_log), "--format", "json", *flags]) == 0
        return len(json.loads(capsys.readouterr().out)["decisions"])

    assert shown() == 1
    assert shown("--only", "dismissed") == 0
    assert shown("--only", "alert,needs_review") == 1
    severity = json.loads(
        (main(["firewall", str(asa_log), "--format", "json"]), capsys.readouterr().out)[1]
    )["incidents"][0]["severity"]
    order = ["info", "low", "medium", "high", "critical"]
    assert shown("--min-severity", severity) == 1
    if severity != "critical":
        assert shown("--min-severity", order[order.index(severity) + 1]) == 0
    # the filter hides, the exit code still sees every decision
    assert main(["firewall", str(asa_log), "-q", "--only", "dismissed", "--fail-on", "alert"]) == 1


def test_quiet_and_verbose(asa_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mixed = asa_log.parent / "mixed.log"
    mixed.write_text(asa_log.read_text() + "junk\n" * 2000)
    assert main(["firewall", str(mixed), "-q", "-o", str(asa_log.parent / "r.txt")]) == 0
    assert capsys.readouterr().err == ""
    assert main(["firewall", str(mixed), "-v", "-o", str(asa_log.parent / "r.txt")]) == 0
    err = capsys.readouterr().err
    assert "lines rejected" in err and "mixed.log: asa" in err and "time total" in err


def test_defaults_table(asa_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "siem-consensus.toml"
    config.write_text(
        '[defaults]\nformat = "json"\nthreshold = 0.5\n\n[defaults.firewall]\npolicy = "majority"\n'
    )
    assert main(["firewall", str(asa_log), "--connectors", str(config)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["policy"], report["threshold"]) == ("majority", 0.5)
    args = ["firewall", str(asa_log), "--connectors", str(config), "--threshold", "0.9"]
    assert main(args) == 0  # the command line wins
    assert json.loads(capsys.readouterr().out)["threshold"] == 0.9


def test_defaults_from_the_working_folder(
    asa_log: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "siem-consensus.toml").write_text('[defaults]\nformat = "jsonl"\n')
    done = run_main(["firewall", "asa.log"], tmp_path, monkeypatch, capsys)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[0])["siem_consensus"]["outcome"] == "alert"
