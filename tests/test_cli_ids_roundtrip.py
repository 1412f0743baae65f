"""Caller ids round-trip: the id an event came with is its id in evidence, members and exports.

One test per input kind: ``Event`` objects, ECS records (dicts), ECS JSON lines in a file,
Kafka-style ``{topic}:{partition}:{offset}`` ids, and plain files (``{file}:{line}`` stays).
Connector documents (``{index}:{_id}``) are covered in test_connector_memory.py and
test_connector_pipeline.py.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import run_main

from siem_consensus import analyze_firewall
from siem_consensus.generators.firewall import scenario_1
from siem_consensus.models import Event
from siem_consensus.parsers.asa import AsaParser
from siem_consensus.parsers.base import frame_to_events


@pytest.fixture(scope="module")
def events() -> list[Event]:
    """The seeded ASA scan as Events, each with a SIEM-style id of its own."""
    lines = scenario_1(seed=7)
    parsed = frame_to_events(AsaParser().parse_chunk(lines, 1, "x").events, "x")
    return [e.model_copy(update={"event_id": f"fw-doc-{i}"}) for i, e in enumerate(parsed)]


def _evidence_ids(report: Any) -> set[str]:
    [incident] = [i for i in report.incidents if i.kind == "port_scan"]
    assert incident.evidence_event_ids
    assert [e.event_id for e in incident.evidence] == list(incident.evidence_event_ids)
    return set(incident.evidence_event_ids)


def _members(path: Path) -> list[str]:
    with path.open() as fh:
        return [row["event_id"] for row in csv.DictReader(fh)]


def test_event_objects_keep_their_ids(events: list[Event], tmp_path: Path) -> None:
    members = tmp_path / "m.csv"
    report = analyze_firewall(events, members_path=members)
    ids = _evidence_ids(report)
    assert all(i.startswith("fw-doc-") for i in ids)
    known = {e.event_id for e in events}
    assert ids <= known
    rows = _members(members)
    assert rows and set(rows) <= known


def test_kafka_style_ids_keep_their_form(events: list[Event]) -> None:
    kafka = [e.model_copy(update={"event_id": f"fw-topic:3:{n}"}) for n, e in enumerate(events)]
    ids = _evidence_ids(analyze_firewall(kafka))
    assert all(i.startswith("fw-topic:3:") for i in ids)


def _ecs(event: Event) -> dict[str, Any]:
    doc = json.loads(event.model_dump_json(by_alias=True, exclude={"event_id"}))
    doc = {k: v for k, v in doc.items() if v is not None}
    doc["event"] = {"id": event.event_id, "action": doc.pop("event.action", None)}
    return doc


def test_ecs_records_keep_event_id(events: list[Event]) -> None:
    ids = _evidence_ids(analyze_firewall([_ecs(e) for e in events]))
    assert all(i.startswith("fw-doc-") for i in ids)


def test_ecs_file_keeps_event_id_in_evidence_members_and_jsonl(
    events: list[Event],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = tmp_path / "ecs.jsonl"
    log.write_text("".join(json.dumps(_ecs(e)) + "\n" for e in events))
    args = ["firewall", str(log), "--format", "jsonl", "--members", "m.csv"]
    done = run_main(args, tmp_path, monkeypatch, capsys)
    assert done.returncode == 0, done.stderr
    [doc] = [json.loads(line) for line in done.stdout.splitlines()]
    evidence = doc["siem_consensus"]["evidence_event_ids"]
    assert evidence and all(i.startswith("fw-doc-") for i in evidence)
    rows = _members(tmp_path / "m.csv")
    assert rows and all(i.startswith("fw-doc-") for i in rows)


def test_files_without_ids_keep_file_and_line(tmp_path: Path) -> None:
    log = tmp_path / "asa.log"
    log.write_text("\n".join(scenario_1(seed=7)) + "\n")
    ids = _evidence_ids(analyze_firewall(log))
    assert all(i.startswith("asa.log:") and i.split(":")[1].isdigit() for i in ids)


def test_connector_documents_keep_their_ids_in_the_write_back(events: list[Event]) -> None:
    from siem_consensus.testing import MemoryConnector

    siem = MemoryConnector(events)
    report = analyze_firewall(siem.search(), sinks=[siem])
    ids = _evidence_ids(report)
    assert all(i.startswith("fw-doc-") for i in ids)
    [doc] = siem.documents.values()
    assert set(doc["siem_consensus"]["incident"]["evidence_event_ids"]) == ids
