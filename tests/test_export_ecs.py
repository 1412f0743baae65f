"""ECS export: one document per decision, nested ECS objects, deterministic ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import siem_consensus
from siem_consensus.examples import example_2
from siem_consensus.export import export_report, load_report, to_ecs_documents
from siem_consensus.generators import firewall
from siem_consensus.generators.insider import generate_insider_dataset
from siem_consensus.report import Report


@pytest.fixture(scope="module")
def firewall_report() -> Report:
    return siem_consensus.analyze_firewall(firewall.scenario_1(seed=7), input_format="asa")


@pytest.fixture(scope="module")
def ids_report() -> Report:
    return example_2(quiet=True)


def test_one_document_per_decision_with_ecs_shape(firewall_report: Report) -> None:
    docs = to_ecs_documents(firewall_report)
    assert len(docs) == len(firewall_report.decisions)
    alert = next(d for d in docs if d["siem_consensus"]["outcome"] == "alert")
    assert alert["event"]["kind"] == "alert"
    assert isinstance(alert["event"]["severity"], int)
    assert alert["event"]["category"] == ["network"]
    assert alert["threat"]["technique"]["id"]
    assert alert["source"]["ip"] and alert["destination"]["ip"]
    incident = firewall_report.incident(alert["siem_consensus"]["incident_id"])
    assert alert["rule"]["name"] == incident.title
    assert alert["@timestamp"].endswith("Z")
    assert {v["analyst"] for v in alert["siem_consensus"]["verdicts"]} == set(
        firewall_report.analysts
    )
    others = [d for d in docs if d["siem_consensus"]["outcome"] != "alert"]
    assert all(d["event"]["kind"] == "signal" for d in others)


def test_ids_are_deterministic_and_unique(ids_report: Report) -> None:
    first, second = to_ecs_documents(ids_report), to_ecs_documents(ids_report)
    assert [d["_id"] for d in first] == [d["_id"] for d in second]
    assert len({d["_id"] for d in first}) == len(first)
    assert first[0]["event"]["category"] == ["intrusion_detection", "network"]


def test_export_report_ndjson_round_trip(ids_report: Report, tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text(ids_report.to_json(), encoding="utf-8")
    assert type(load_report(path)) is type(ids_report)
    lines = export_report(path, "ecs").splitlines()
    assert [json.loads(line)["_id"] for line in lines] == [
        d["_id"] for d in to_ecs_documents(ids_report)
    ]


def test_export_report_rejects_unknown_format_and_detector(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"detector": "nope"}), encoding="utf-8")
    with pytest.raises(siem_consensus.errors.ConfigError, match="ecs, html, markdown"):
        export_report(path, "pdf")
    with pytest.raises(siem_consensus.errors.ConfigError, match="firewall, ids, insider"):
        export_report(path, "ecs")


def test_insider_documents_name_the_user_and_host(tmp_path: Path) -> None:
    generate_insider_dataset(tmp_path, users=20, days=30, scenarios=("night_mass_download",))
    report = siem_consensus.detect_insider_threats(tmp_path)
    [alert] = [d for d in to_ecs_documents(report) if d["event"]["kind"] == "alert"]
    incident = report.incident(alert["siem_consensus"]["incident_id"])
    assert alert["user"]["name"] == ["bob.engineer"] == list(incident.entities.users)
    assert alert["host"]["name"] == list(incident.entities.hosts)
    assert alert["event"]["category"] == ["iam"]
    assert "source" not in alert and "destination" not in alert
