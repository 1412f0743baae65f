"""What the shared triage nodes hand on: JSON-ready incidents (any checkpointer can store them,
and a caller can ``json.dumps`` the final state), timings that are the time the node took, the
node names a graph gets when it does not name them, a verdict for every case of a batch, and
decisions that apply the graph's claim checks and name every analyst."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any

from langgraph.runtime import Runtime

from siem_consensus.analysts.costs import Budget
from siem_consensus.consensus import UnanimousPolicy
from siem_consensus.detectors.firewall import FirewallDetector
from siem_consensus.enrich.zones import Asset, AssetInventory
from siem_consensus.generators.firewall import scenario_1
from siem_consensus.graphs.nodes import (
    TriageContext,
    make_analyze,
    make_consensus,
    make_enrich,
    make_fan_out,
    make_ingest,
)
from siem_consensus.models import Entities, Incident, Outcome, Severity, Verdict, VerdictStatus


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


class _PaidBatcher:
    """Batches two cases a call and spends 100 tokens per case from its budget."""

    batch_size = 2

    def __init__(self, name: str, budget: Budget) -> None:
        self.name, self.budget = name, budget

    def batchable(self, case: Incident) -> bool:
        return True

    def needs_call(self, case: Incident) -> bool:
        return True

    def estimate(self, cases: list[Incident]) -> tuple[int, float | None]:
        return 100 * len(cases), None

    async def analyze(self, case: Incident) -> Verdict:
        raise AssertionError("batched: analyze_batch is called")

    async def analyze_batch(self, cases: list[Incident]) -> list[Verdict]:
        return [Verdict(analyst=self.name, incident_id=c.id, is_threat=True, confidence=0.9)
                for c in cases]  # fmt: skip


def test_a_batch_the_budget_pays_only_partly_for_gets_a_verdict_for_every_case() -> None:
    paid = _PaidBatcher("paid", Budget(max_tokens=150))
    node = make_analyze([paid], timeout=5)  # type: ignore[list-item]
    task = {"incidents": [_incident(1), _incident(2)], "analyst": "paid"}
    verdicts = asyncio.run(node(task))["verdicts"]
    shown = sorted((v["incident_id"], v["status"]) for v in verdicts)
    assert shown == [("fw-1", VerdictStatus.OK), ("fw-2", VerdictStatus.ERROR)]
    [refused] = [v for v in verdicts if v["status"] == VerdictStatus.ERROR]
    assert refused["error"].startswith("not sent: ")


def test_an_incident_no_analyst_answered_is_a_degraded_review_naming_each_analyst() -> None:
    node = make_consensus(UnanimousPolicy(0.5), [_Analyst(), _Named("b")])  # type: ignore[list-item]
    [decision] = node({"incidents": [_incident(1)], "verdicts": []})["decisions"]
    assert (decision["outcome"], decision["degraded"]) == (Outcome.NEEDS_REVIEW, True)
    assert [(v["analyst"], v["status"]) for v in decision["verdicts"]] == [
        ("a", VerdictStatus.ERROR),
        ("b", VerdictStatus.ERROR),
    ]


def test_the_consensus_node_applies_the_graphs_claim_checks() -> None:
    def no_port_scans(verdict: Verdict, incident: Incident) -> list[str]:
        return ["port scans are for the rules only"] if incident.kind == "port_scan" else []

    analysts = [_Analyst(), _Named("b")]
    state: Any = {
        "incidents": [_incident(1)],
        "verdicts": [
            Verdict(analyst=a.name, incident_id="fw-1", is_threat=True, confidence=0.9).model_dump(
                mode="json"
            )
            for a in analysts
        ],
    }
    unchecked = make_consensus(UnanimousPolicy(0.5), analysts)(state)  # type: ignore[arg-type]
    assert unchecked["decisions"][0]["outcome"] == Outcome.ALERT
    checked = make_consensus(UnanimousPolicy(0.5), analysts, [no_port_scans])(state)  # type: ignore[arg-type]
    [decision] = checked["decisions"]
    assert decision["outcome"] == Outcome.NEEDS_REVIEW and not decision["degraded"]
    assert {v["status"] for v in decision["verdicts"]} == {VerdictStatus.UNVERIFIED}
    assert "a abstained: port scans are for the rules only" in decision["reasons"]


class _Named(_Analyst):
    def __init__(self, name: str) -> None:
        self.name = name


class _BatchableOnly(_Named):
    """Says every case could be batched, but sets no ``batch_size``: it does not batch."""

    def batchable(self, case: Incident) -> bool:
        return True


def test_an_analyst_without_a_batch_size_gets_one_case_per_task() -> None:
    sends = make_fan_out([_BatchableOnly("b")])(  # type: ignore[list-item]
        {"incidents": [_incident(1), _incident(2), _incident(3)]}
    )
    assert isinstance(sends, list)
    assert [s.arg.get("incident", {}).get("id") for s in sends] == ["fw-1", "fw-2", "fw-3"]


class _SizedOnly(_Named):
    """Sets a batch size but cannot say which cases batch: it does not batch."""

    batch_size = 2


def test_an_analyst_that_cannot_say_what_batches_gets_one_case_per_task() -> None:
    sends = make_fan_out([_SizedOnly("s")])(  # type: ignore[list-item]
        {"incidents": [_incident(1), _incident(2), _incident(3)]}
    )
    assert isinstance(sends, list)
    assert [s.arg.get("incident", {}).get("id") for s in sends] == ["fw-1", "fw-2", "fw-3"]
