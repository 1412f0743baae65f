"""The Scenario 2 generator: seeded, realistic Suricata EVE, and the story it must tell."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from siem_consensus.detectors.ids import IdsCorrelator
from siem_consensus.generators.ids import (
    ATTACKER,
    C2_SERVER,
    CAMPAIGN_ALERTS,
    TOTAL_ALERTS,
    VICTIM,
    scenario_2,
    write_scenario_2,
)
from siem_consensus.models import Severity
from siem_consensus.sources import EventStream

_LINES = scenario_2()


def _records(lines: list[str]) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in lines]


def _campaign(records: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    return [r for r in records if {r["src_ip"], r["dest_ip"]} & {ATTACKER, C2_SERVER}]


def test_same_seed_same_lines_other_seed_other_lines() -> None:
    assert scenario_2(7) == _LINES
    assert scenario_2(8) != _LINES


def test_size_order_and_campaign_shape() -> None:
    records = _records(_LINES)
    assert len(records) == TOTAL_ALERTS
    stamps = [r["timestamp"] for r in records]
    assert stamps == sorted(stamps)
    camp = _campaign(records)
    assert len(camp) == CAMPAIGN_ALERTS
    names = [r["alert"]["signature"] for r in camp]
    assert sum("Nikto" in n for n in names) == 2
    assert sum("SQL Injection" in n for n in names) == 3
    assert sum("Command Injection" in n for n in names) == 1
    assert sum("4444" in n for n in names) == 1 and sum("Large" in n for n in names) == 2
    assert [r["alert"]["severity"] for r in camp] == [3, 3, 2, 2, 2, 1, 2, 2, 2]
    sqli = [r for r in camp if "SQL" in r["alert"]["signature"]]
    assert all("' OR '1'='1" in r["payload_printable"] for r in sqli)
    assert all("%27%20OR%20%271%27%3D%271" in r["http"]["url"] for r in sqli)
    assert any(";/bin/bash" in r.get("payload_printable", "") for r in camp)
    first, last = camp[0]["timestamp"], camp[-1]["timestamp"]
    span = datetime.fromisoformat(last) - datetime.fromisoformat(first)
    assert span.total_seconds() <= 20 * 60


def test_noise_is_low_severity_and_never_touches_the_attacker() -> None:
    records = _records(_LINES)
    bad = {ATTACKER, C2_SERVER}
    noise = [r for r in records if not {r["src_ip"], r["dest_ip"]} & bad]
    assert len(noise) == TOTAL_ALERTS - CAMPAIGN_ALERTS
    assert {r["alert"]["severity"] for r in noise} == {3}
    assert any(VICTIM in (r["src_ip"], r["dest_ip"]) for r in noise)
    counts: dict[str, int] = {}
    for r in noise:
        counts[r["alert"]["signature"]] = counts.get(r["alert"]["signature"], 0) + 1
    assert max(counts.values()) >= 1000 and len(counts) >= 20


def test_default_clock_is_fixed_and_now_moves_it() -> None:
    later = scenario_2(now=datetime(2027, 1, 1, tzinfo=UTC))
    assert json.loads(later[0])["timestamp"].startswith("2026-12-31T21:55")
    assert json.loads(_LINES[0])["timestamp"].startswith("2026-01-18T14:25")


def test_write_scenario_2(tmp_path: Path) -> None:
    path = tmp_path / "eve.json"
    assert write_scenario_2(path, seed=7) == TOTAL_ALERTS
    assert path.read_text(encoding="utf-8").splitlines() == _LINES


def test_parsed_and_correlated_it_tells_the_story() -> None:
    stream = EventStream([_LINES], input_format="suricata", chunk_lines=700)
    detector = IdsCorrelator()
    batches = []
    for _, batch in stream:
        detector.update(batch)
        batches.append(batch)
    assert stream.stats.events == TOTAL_ALERTS and stream.stats.dead_letters == 0
    incidents = detector.finish()
    (camp,) = [i for i in incidents if i.kind == "campaign"]
    assert camp.severity is Severity.CRITICAL
    assert camp.stats["phases"] == ["reconnaissance", "exploitation", "post-exploitation"]
    assert camp.title == (
        f"Multi-stage attack: {ATTACKER} -> {VICTIM} "
        "(reconnaissance -> exploitation -> post-exploitation)"
    )
    assert {"Reconnaissance", "Initial Access", "Execution", "Command and Control",
            "Exfiltration"} <= set(camp.stats["tactics"])  # fmt: skip
    others = [i for i in incidents if i is not camp]
    assert others and all(i.kind == "alert_flood" for i in others)
    assert all(i.severity.rank <= Severity.LOW.rank for i in others) and len(others) <= 5
    frame = pl.concat(batches)
    claimed = detector.assign(frame, incidents).filter(pl.col("incident_id") == camp.id)
    wanted = frame.filter(
        pl.col("source_ip").is_in([ATTACKER, VICTIM]) & pl.col("destination_ip").is_in(
            [VICTIM, C2_SERVER])
    )  # fmt: skip
    expected = {f"{s}:{n}" for s, n in wanted.select("source", "line").iter_rows()}
    assert set(claimed["event_id"].to_list()) == expected and len(expected) == CAMPAIGN_ALERTS
