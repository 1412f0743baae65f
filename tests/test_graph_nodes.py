"""The shared triage nodes one at a time (``graphs/nodes.py``): what each reads from the state
and what it writes back, without running a whole graph."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from langgraph.runtime import Runtime

from siem_consensus.analysts.costs import Budget
from siem_consensus.consensus import MajorityPolicy, UnanimousPolicy
from siem_consensus.detectors.firewall import FirewallDetector
from siem_consensus.enrich.zones import Asset, AssetInventory
from siem_consensus.errors import ConfigError, InputError
from siem_consensus.generators.firewall import scenario_1
from siem_consensus.graphs.nodes import (
    TriageContext,
    _tasks,
    make_analyze,
    make_consensus,
    make_enrich,
    make_fan_out,
    make_ingest,
    route,
)
from siem_consensus.models import Entities, Incident, Outcome, Severity, Verdict, VerdictStatus
from siem_consensus.parsers.reading import DEFAULT_LIMITS, Limits


def _incident(n: int, severity: Severity = Severity.LOW, **fields: Any) -> dict[str, Any]:
    case = Incident(
        id=f"fw-{n}",
        detector="firewall",
        kind="port_scan",
        title=f"case {n}",
        severity=severity,
        score=0.5,
        **fields,
    )
    return case.model_dump(mode="json")


def _verdict(analyst: str, incident_id: str, is_threat: bool = True) -> Verdict:
    return Verdict(analyst=analyst, incident_id=incident_id, is_threat=is_threat, confidence=0.9)


class _Sure:
    """Always says threat, confidently; counts its calls."""

    def __init__(self, name: str, is_threat: bool = True) -> None:
        self.name, self.is_threat, self.calls = name, is_threat, 0

    async def analyze(self, case: Incident) -> Verdict:
        self.calls += 1
        return _verdict(self.name, case.id, self.is_threat)


class _Batcher(_Sure):
    """Batches low tiers two at a time; records each batch it was given."""

    batch_size = 2

    def __init__(self, name: str = "batcher") -> None:
        super().__init__(name)
        self.batches: list[list[str]] = []

    def batchable(self, case: Incident) -> bool:
        return case.severity.rank < Severity.HIGH.rank

    async def analyze_batch(self, cases: list[Incident]) -> list[Verdict]:
        self.batches.append([c.id for c in cases])
        return [_verdict(self.name, c.id) for c in cases]


class _Slow(_Sure):
    async def analyze(self, case: Incident) -> Verdict:
        await asyncio.sleep(5)
        return await super().analyze(case)


# ----------------------------------------------------------------------------- route


def test_route_sorts_every_decision_into_its_queue_in_order() -> None:
    decisions = [
        {"incident_id": "a", "outcome": "alert"},
        {"incident_id": "b", "outcome": "dismissed"},
        {"incident_id": "c", "outcome": "needs_review"},
        {"incident_id": "d", "outcome": "alert"},
    ]
    assert route({"decisions": decisions}) == {
        "routes": {"alert": ["a", "d"], "review": ["c"], "dismissed": ["b"]}
    }
    assert route({}) == {"routes": {"alert": [], "review": [], "dismissed": []}}


# ---------------------------------------------------------------------------- enrich


def test_enrich_attaches_zones_and_criticality_to_every_incident() -> None:
    inventory = AssetInventory([Asset(network="10.1.0.0/16", zone="dmz", criticality="high")])
    entities = Entities(source_ips=("45.95.168.200",), destination_ips=("10.1.50.10",))
    state: Any = {"incidents": [_incident(1, entities=entities), _incident(2)]}
    out = make_enrich(inventory)(state)
    first, second = out["incidents"]
    assert first["enrichment"]["source_zones"] == {"45.95.168.200": "external"}
    assert first["enrichment"]["destination_zones"] == {"10.1.50.10": "dmz"}
    assert first["enrichment"]["max_destination_criticality"] == "high"
    assert second["id"] == "fw-2" and second["enrichment"]["destination_zones"] == {}
    assert list(out["timings"]) == ["enrich"] and out["timings"]["enrich"] >= 0
    assert make_enrich(inventory)({})["incidents"] == []


# ---------------------------------------------------------------------------- ingest


def _ingest(state: Any, context: TriageContext | None) -> dict[str, Any]:
    node = make_ingest(FirewallDetector)
    return node(state, runtime=Runtime(context=context))  # type: ignore[arg-type]


def test_ingest_reads_paths_then_inline_sources_and_detects(tmp_path: Path) -> None:
    lines = scenario_1(seed=7)
    log = tmp_path / "asa.log"
    log.write_text("\n".join(lines[:100]) + "\n")
    out = _ingest(
        {"sources": [str(log)], "input_format": "asa"},
        TriageContext(inline_sources=[lines[100:]]),
    )
    assert out["input"]["lines"] == out["input"]["events"] == len(lines)
    assert out["dead_letters"] == []
    [incident] = out["incidents"]
    assert incident["kind"] == "port_scan" and incident["severity"] in {s.value for s in Severity}
    assert list(out["timings"]) == ["parse_detect"] and out["timings"]["parse_detect"] >= 0


def test_ingest_without_a_context_uses_the_defaults() -> None:
    assert TriageContext() == TriageContext(
        inline_sources=(),
        progress=None,
        dead_letter_path=None,
        chunk_lines=100_000,
        limits=DEFAULT_LIMITS,
        timezone=None,
    )
    out = _ingest({"sources": [], "input_format": "asa"}, None)
    assert out["input"]["lines"] == 0 and out["incidents"] == [] and out["dead_letters"] == []


def test_ingest_passes_the_contexts_settings_through(tmp_path: Path) -> None:
    lines = scenario_1(seed=7)
    log, dead = tmp_path / "asa.log", tmp_path / "dead.jsonl"
    log.write_text("\n".join(lines) + "\n")
    state: Any = {"sources": [str(log)], "input_format": "asa"}
    seen: list[tuple[int, int, int]] = []
    context = TriageContext(
        inline_sources=[["not an asa line", "nor this"]],
        progress=lambda *a: seen.append(a),
        dead_letter_path=str(dead),
        chunk_lines=50,
        timezone="Asia/Tokyo",
    )
    out = _ingest(state, context)
    assert [d["reason"] for d in out["dead_letters"]] == [
        json.loads(x)["reason"] for x in dead.read_text().splitlines()
    ]
    assert len(out["dead_letters"]) == out["input"]["dead_letters"] == 2
    assert len(seen) >= len(lines) // 50 and seen[-1][0] == len(lines) + 2
    utc = _ingest(state, None)["incidents"][0]["first_seen"]
    assert (utc, out["incidents"][0]["first_seen"]) == (
        "2026-01-18T14:30:00Z",
        "2026-01-18T05:30:00Z",
    )
    with pytest.raises(InputError, match="more than"):
        _ingest(state, TriageContext(limits=Limits(max_input_bytes=5000)))


# ----------------------------------------------------------------------------- tasks


def test_tasks_go_highest_tier_first_and_batch_only_batchable_cases() -> None:
    incidents = [
        _incident(1, Severity.LOW),
        _incident(2, Severity.CRITICAL),
        _incident(3, Severity.MEDIUM),
        _incident(4, Severity.HIGH),
        _incident(5, Severity.INFO),
    ]
    sends = _tasks(incidents, _Batcher(), "judge")  # type: ignore[arg-type]
    assert {s.node for s in sends} == {"judge"}
    assert [s.arg["incident"]["id"] for s in sends[:2]] == ["fw-2", "fw-4"]
    assert [[i["id"] for i in s.arg["incidents"]] for s in sends[2:]] == [
        ["fw-3", "fw-1"],
        ["fw-5"],
    ]
    assert all(s.arg["analyst"] == "batcher" for s in sends)


def test_an_analyst_without_batching_gets_one_task_per_case_sorted_by_tier() -> None:
    incidents = [_incident(1, Severity.LOW), _incident(2, Severity.HIGH), _incident(3)]
    sends = _tasks(incidents, _Sure("one"))  # type: ignore[arg-type]
    assert [(s.node, s.arg["incident"]["id"]) for s in sends] == [
        ("analyze", "fw-2"),
        ("analyze", "fw-1"),
        ("analyze", "fw-3"),
    ]
    single = _Batcher()
    single.batch_size = 1
    assert all("incident" in s.arg for s in _tasks(incidents, single))  # type: ignore[arg-type]


def test_fan_out_interleaves_uneven_analysts_and_falls_through_without_incidents() -> None:
    incidents = [_incident(n, Severity.MEDIUM) for n in range(3)]
    fan_out = make_fan_out([_Sure("a"), _Batcher("b")], analyze="judge", otherwise="decide")  # type: ignore[list-item]
    sends = fan_out({"incidents": incidents})
    assert isinstance(sends, list)
    shown = [(s.node, s.arg["analyst"], len(s.arg.get("incidents", [1]))) for s in sends]
    assert shown == [("judge", "a", 1), ("judge", "b", 2), ("judge", "a", 1), ("judge", "b", 1),
                     ("judge", "a", 1)]  # fmt: skip
    assert fan_out({}) == "decide" and fan_out({"incidents": []}) == "decide"
    assert make_fan_out([_Sure("a")])({}) == "consensus"  # type: ignore[list-item]


# --------------------------------------------------------------------------- analyze


def test_analyze_runs_one_case_or_one_batch_and_returns_json_verdicts() -> None:
    one, batcher = _Sure("one"), _Batcher()
    node = make_analyze([one, batcher], timeout=5)  # type: ignore[list-item]
    single = asyncio.run(node({"incident": _incident(1), "analyst": "one"}))
    assert single == {"verdicts": [_verdict("one", "fw-1").model_dump(mode="json")]}
    assert one.calls == 1
    task = {"incidents": [_incident(2), _incident(3)], "analyst": "batcher"}
    batch = asyncio.run(node(task))
    assert [(v["analyst"], v["incident_id"]) for v in batch["verdicts"]] == [
        ("batcher", "fw-2"),
        ("batcher", "fw-3"),
    ]
    assert batcher.batches == [["fw-2", "fw-3"]] and batcher.calls == 0


def test_analyze_applies_its_timeout() -> None:
    node = make_analyze([_Slow("slow")], timeout=0.05)  # type: ignore[list-item]
    [verdict] = asyncio.run(node({"incident": _incident(1), "analyst": "slow"}))["verdicts"]
    assert verdict["status"] == VerdictStatus.ERROR and "timed out after 0.05s" in verdict["error"]


# ------------------------------------------------------------------------- consensus


def test_consensus_groups_verdicts_by_incident_in_the_incidents_order() -> None:
    node = make_consensus(UnanimousPolicy(0.5), [_Sure("a"), _Sure("b")])  # type: ignore[list-item]
    verdicts = [
        _verdict("b", "fw-2", is_threat=False),
        _verdict("a", "fw-1"),
        _verdict("b", "fw-1"),
        _verdict("a", "fw-2"),
    ]
    state: Any = {
        "incidents": [_incident(1), _incident(2)],
        "verdicts": [v.model_dump(mode="json") for v in verdicts],
    }
    first, second = node(state)["decisions"]
    assert (first["incident_id"], first["outcome"]) == ("fw-1", Outcome.ALERT)
    assert type(first["outcome"]) is str  # JSON-ready state, not the enum
    assert [v["analyst"] for v in first["verdicts"]] == ["a", "b"]
    assert (second["incident_id"], second["outcome"]) == ("fw-2", Outcome.NEEDS_REVIEW)
    assert not second["degraded"]
    assert node({}) == {"decisions": []}


def test_consensus_refuses_a_quorum_the_analysts_cannot_meet() -> None:
    with pytest.raises(ConfigError, match="quorum"):
        make_consensus(MajorityPolicy(0.5, quorum=3), [_Sure("a"), _Sure("b")])  # type: ignore[list-item]


class _Paid(_Sure):
    """Spends from a budget: 100 tokens per case."""

    def __init__(self, name: str, budget: Budget) -> None:
        super().__init__(name)
        self.budget = budget

    def needs_call(self, case: Incident) -> bool:
        return True

    def estimate(self, cases: list[Incident]) -> tuple[int, float | None]:
        return 100 * len(cases), None


def test_analyze_sends_nothing_the_budget_cannot_pay_for() -> None:
    paid = _Paid("paid", Budget(max_tokens=50))
    node = make_analyze([paid], timeout=5)  # type: ignore[list-item]
    [verdict] = asyncio.run(node({"incident": _incident(1), "analyst": "paid"}))["verdicts"]
    assert verdict["status"] == VerdictStatus.ERROR and verdict["error"].startswith("not sent: ")
    assert paid.calls == 0
