"""The siem-consensus command: outputs, members, errors, LLM flags."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from llm_helpers import claims, scan_incident

from siem_consensus.cli import main, parse_budget
from siem_consensus.errors import UsageError
from siem_consensus.generators.firewall import write_scenario_1
from siem_consensus.testing import ProviderSimulator


@pytest.fixture
def asa_log(tmp_path: Path) -> Path:
    path = tmp_path / "asa.log"
    write_scenario_1(path, seed=7)
    return path


def test_json_report_has_the_documented_shape(
    asa_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    members = tmp_path / "members.csv"
    assert main(["firewall", str(asa_log), "--format", "json", "--members", str(members)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["schema_version"] == "1.0" and report["detector"] == "firewall"
    assert report["input"]["events"] + report["input"]["dead_letters"] == report["input"]["lines"]
    [incident] = report["incidents"]
    assert incident["entities"]["source_ips"] == ["45.95.168.200"]
    assert {"technique_id", "tactic"} <= set(incident["attack"][0])
    [decision] = report["decisions"]
    assert decision["outcome"] == "alert" and decision["incident_id"] == incident["id"]
    assert {"analyst", "is_threat", "confidence", "error"} <= set(decision["verdicts"][0])
    with members.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == incident["event_count"] == 195
    assert all(r["event_id"].startswith("asa.log:") for r in rows)
    assert {r["incident_id"] for r in rows} == {incident["id"]}


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_human_formats(asa_log: Path, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["firewall", str(asa_log), "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert "45.95.168.200" in out and "alert" in out


def test_dead_letters_file_and_unknown_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "odd.log"
    log.write_text("hello world\nthis is not a firewall log\n")
    assert main(["firewall", str(log)]) == 2
    assert "--input-format" in capsys.readouterr().err
    dead = tmp_path / "dead.jsonl"
    # every line rejected: exit 3, with the top reason on stderr
    assert main(["firewall", str(log), "--input-format", "asa", "--dead-letters", str(dead)]) == 3
    assert "every line was rejected" in capsys.readouterr().err
    letters = [json.loads(line) for line in dead.read_text().splitlines()]
    assert [d["line"] for d in letters] == [1, 2]


def test_missing_file_is_a_runtime_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["firewall", str(tmp_path / "nope.log")]) == 3
    assert "no such file" in capsys.readouterr().err


def test_budget_parsing() -> None:
    assert parse_budget("200000") == (200_000, None)
    assert parse_budget("200_000tok") == (200_000, None)
    assert parse_budget("$5") == (None, 5.0) and parse_budget("2.5usd") == (None, 2.5)
    with pytest.raises(UsageError, match="neither tokens"):
        parse_budget("lots")


def test_llm_analysts_by_name_with_cache(
    asa_log: Path,
    tmp_path: Path,
    provider_simulator_env: ProviderSimulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Event ids differ between this file and the in-memory scenario: cite none.
    provider_simulator_env.anthropic.script(claims(scan_incident(), evidence_event_ids=[]))
    args = [
        "firewall",
        str(asa_log),
        "--format",
        "json",
        "--analysts",
        "rules,claude",
        "--cache",
        str(tmp_path / "cache.sqlite"),
    ]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert main(args) == 0  # second run: answered from the cache
    second = json.loads(capsys.readouterr().out)
    assert len(provider_simulator_env.requests) == 1
    for report in (first, second):
        assert [v["analyst"] for v in report["decisions"][0]["verdicts"]] == ["rules", "claude"]
        assert report["decisions"][0]["outcome"] == "alert"
    assert second["decisions"][0]["verdicts"][1]["usage"]["cached"] is True


def test_budget_flag_turns_calls_into_degraded_reviews(
    asa_log: Path, provider_simulator_env: ProviderSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "firewall",
        str(asa_log),
        "--format",
        "json",
        "--analysts",
        "rules,claude",
        "--budget",
        "10tok",
        "--no-cache",
    ]
    assert main(args) == 0
    decision = json.loads(capsys.readouterr().out)["decisions"][0]
    assert decision["outcome"] == "needs_review" and decision["degraded"] is True
    assert provider_simulator_env.requests == []


def test_thresholds_file(asa_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "fw.toml"
    config.write_text("[firewall]\nport_scan_ports = 20\nlong_horizon_s = 0\n")
    assert main(["firewall", str(asa_log), "--format", "json", "--thresholds", str(config)]) == 0
    assert json.loads(capsys.readouterr().out)["incidents"] == []
    config.write_text("port_scan_ports = 'many'\n")
    assert main(["firewall", str(asa_log), "--thresholds", str(config)]) == 2
    assert "port_scan_ports" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["ecs", "ocsf", "stix", "markdown", "html"])
def test_export_command(
    asa_log: Path, tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    assert main(["firewall", str(asa_log), "--format", "json", "-o", str(report)]) == 0
    out = tmp_path / f"out.{fmt}"
    assert main(["export", str(report), "--format", fmt, "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "45.95.168.200" in text
