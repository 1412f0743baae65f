"""Scenario 1 end to end: generated ASA lines -> ASA parser -> FirewallDetector."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from siem_consensus.detectors.firewall import FirewallDetector
from siem_consensus.generators.firewall import SCAN_PORTS, SCAN_TARGET, SCANNER, write_scenario_1
from siem_consensus.models import Severity
from siem_consensus.sources import EventStream


@pytest.fixture(scope="module")
def asa_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fw") / "asa.log"
    write_scenario_1(path, seed=7)
    return path


def _stream(path: Path, chunk: int) -> EventStream:
    return EventStream([path], input_format="asa", chunk_lines=chunk)


@pytest.mark.parametrize("chunk", [100, 100_000])
def test_scenario_1_through_the_asa_parser(asa_log: Path, chunk: int) -> None:
    detector = FirewallDetector()
    stream = _stream(asa_log, chunk)
    for _, batch in stream:
        detector.update(batch)
    incidents = detector.finish()
    assert stream.stats.dead_letters == 0
    assert len(incidents) == 1
    (incident,) = incidents
    assert (incident.kind, incident.event_count) == ("port_scan", 195)
    assert incident.entities.source_ips == (SCANNER,)
    assert incident.entities.destination_ips == (SCAN_TARGET,)
    assert incident.stats["ports"] == sorted(SCAN_PORTS)
    assert incident.severity.rank >= Severity.HIGH.rank
    assert "T1046" in {a.technique_id for a in incident.attack}


def test_assign_on_a_second_pass_finds_the_195_scan_lines(asa_log: Path) -> None:
    detector = FirewallDetector()
    for _, batch in _stream(asa_log, 500):
        detector.update(batch)
    incidents = detector.finish()
    members = pl.concat([detector.assign(b, incidents) for _, b in _stream(asa_log, 500)])
    lines = asa_log.read_text(encoding="utf-8").splitlines()
    expected = {f"asa.log:{n}" for n, line in enumerate(lines, 1) if f":{SCANNER}/" in line}
    assert len(expected) == 195
    assert set(members["event_id"]) == expected
    assert set(incidents[0].evidence_event_ids) <= expected
