"""What the shared triage nodes hand on: JSON-ready incidents (any checkpointer can store them,
and a caller can ``json.dumps`` the final state), timings that are the time the node took, and
the node names a graph gets when it does not name them."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from langgraph.runtime import Runtime

from siem_consensus.detectors.firewall import FirewallDetector
from siem_consensus.enrich.zones import Asset, AssetInventory
from siem_consensus.generators.firewall import scenario_1
from siem_consensus.graphs.nodes import TriageContext, make_enrich, make_fan_out, make_ingest
from siem_consensus.models import Entities, Incident, Severity, Verdict


def _incident(n: int) -> dict[str, Any]:
    case = Incident(
        id=f"fw-{n}",
        detector="firewall",
        kind="port_scan",
        title=f"case {n}",
        severity=Severity.MEDIUM,
        score=0.5,
        first_seen=datetime(2026, 1, 18, 14, 30, tzinfo=UTC),
        entities=Entities(source_ips=("45.95.168.200",), destination_ips=("10.1.50.10",)),
    )
    return case.model_dump(mode="json")


def _json_ready(value: Any) -> bool:
    return bool(json.loads(json.dumps(value)) == value)


class _Analyst:
    name = "a"

    async def analyze(self, case: Incident) -> Verdict:
        raise AssertionError("not called: fan-out only plans the tasks")


def test_enriched_incidents_are_json_ready_and_timed() -> None:
    inventory = AssetInventory([Asset(network="10.1.0.0/16", zone="dmz", criticality="high")])
    started = time.perf_counter()
    out = make_enrich(inventory)({"incidents": [_incident(1), _incident(2)]})
    took = time.perf_counter() - started
    assert _json_ready(out["incidents"])
    assert out["incidents"][0]["first_seen"] == "2026-01-18T14:30:00Z"
    assert out["incidents"][0]["entities"]["destination_ips"] == ["10.1.50.10"]
    assert 0 <= out["timings"]["enrich"] <= took


def test_ingested_incidents_are_json_ready_and_timed() -> None:
    node = make_ingest(FirewallDetector)
    state: Any = {"sources": [], "input_format": "asa"}
    context = TriageContext(inline_sources=[scenario_1(seed=7)])
    started = time.perf_counter()
    out = node(state, runtime=Runtime(context=context))  # type: ignore[arg-type]
    took = time.perf_counter() - started
    assert out["incidents"] and _json_ready(out["incidents"])
    assert _json_ready(out["input"]) and _json_ready(out["dead_letters"])
    assert 0 <= out["timings"]["parse_detect"] <= took


def test_fan_out_sends_to_the_analyze_node_unless_told_otherwise() -> None:
    fan_out = make_fan_out([_Analyst()])  # type: ignore[list-item]
    sends = fan_out({"incidents": [_incident(1), _incident(2)]})
    assert isinstance(sends, list)
    assert [(s.node, s.arg["incident"]["id"]) for s in sends] == [
        ("analyze", "fw-1"),
        ("analyze", "fw-2"),
    ]
    assert fan_out({"incidents": []}) == "consensus"
