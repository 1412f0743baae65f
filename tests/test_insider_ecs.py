"""Insider detection from generic ECS JSON lines (not only the CERT CSV format)."""

from __future__ import annotations

import json
from pathlib import Path

from siem_consensus import detect_insider_threats
from siem_consensus.generators.insider import generate_insider_dataset
from siem_consensus.parsers.base import frame_to_events
from siem_consensus.parsers.cert import cert_inputs, read_ldap
from siem_consensus.parsers.ecs import EcsParser
from siem_consensus.sources import EventStream


def test_ecs_parser_reads_the_insider_fields() -> None:
    row = EcsParser().parse_record(
        {
            "@timestamp": "2026-01-18T02:00:00Z",
            "user": {"name": "bob.engineer"},
            "event": {"action": "file_download", "category": ["file"]},
            "file": {"path": "/database/customers/customer_1.csv"},
            "destination": {"bytes": 25_000_000},
            "url": {"full": "https://mega.nz/x"},
            "email": {"to": {"address": ["a@x.example", "b@y.example"]}, "attachments": [{}, {}]},
        }
    )
    assert row["file_path"] == "/database/customers/customer_1.csv"
    assert row["event_category"] == "file" and row["url_original"] == "https://mega.nz/x"
    assert row["email_to"] == "a@x.example,b@y.example" and row["email_attachments"] == 2
    assert row["destination_bytes"] == 25_000_000


def test_scenario_3_found_from_ecs_lines(tmp_path: Path) -> None:
    generate_insider_dataset(tmp_path / "cert", seed=7)
    found = cert_inputs(tmp_path / "cert")
    lines = [
        json.dumps(event.model_dump(mode="json", by_alias=True, exclude={"event_id"}))
        for name, batch in EventStream(list(found.event_files))
        for event in frame_to_events(batch.drop("source"), name)
    ]
    assert found.ldap == tmp_path / "cert" / "LDAP"
    report = detect_insider_threats(lines, input_format="ecs", directory=read_ldap(found.ldap))
    assert report.input.events == len(lines) and report.input.dead_letters == 0
    flagged = {
        u: report.decision_for(i.id).outcome.value
        for i in report.incidents
        for u in i.entities.users
    }
    assert flagged.get("bob.engineer") == "alert"
