"""The firewall graph end to end: fan-out, independence, failures, SQLite checkpoints."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from siem_consensus import (
    Incident,
    Outcome,
    TriageContext,
    Verdict,
    analyze_firewall,
    build_firewall_graph,
)
from siem_consensus.generators.firewall import scenario_1


@pytest.fixture(scope="module")
def scenario_lines() -> list[str]:
    return scenario_1(seed=7)


class _Spy:
    """Records exactly what it was shown; answers like a confident analyst."""

    def __init__(self, name: str, delay: float = 0.0, is_threat: bool = True) -> None:
        self.name, self.delay, self.is_threat = name, delay, is_threat
        self.seen: list[Any] = []
        self.spans: list[tuple[float, float]] = []  # (start, end) of each call, monotonic

    async def analyze(self, case: Incident) -> Verdict:
        self.seen.append(case)
        started = time.monotonic()
        await asyncio.sleep(self.delay)
        self.spans.append((started, time.monotonic()))
        return Verdict(
            analyst=self.name,
            incident_id=case.id,
            is_threat=self.is_threat,
            confidence=0.95,
            evidence_event_ids=case.evidence_event_ids[:1],
        )


class _Broken:
    name = "broken"

    async def analyze(self, case: Incident) -> Verdict:
        raise ConnectionError("provider unreachable")


def test_scenario_1_alerts_once_on_the_scan(scenario_lines: list[str]) -> None:
    report = analyze_firewall(scenario_lines, input_format="asa")
    assert report.input.lines == report.input.events == len(scenario_lines)
    [incident] = report.incidents
    assert incident.kind == "port_scan" and incident.entities.source_ips == ("45.95.168.200",)
    decision = report.decision_for(incident.id)
    assert decision.outcome is Outcome.ALERT and not decision.degraded
    assert decision.confidence == min(v.confidence for v in decision.verdicts)
    assert [v.analyst for v in decision.verdicts] == ["rules", "baseline"]


def test_analysts_see_only_the_incident_and_run_in_parallel(scenario_lines: list[str]) -> None:
    a, b = _Spy("a", delay=0.2), _Spy("b", delay=0.2)
    report = analyze_firewall(scenario_lines, input_format="asa", analysts=[a, b])
    # In parallel, each analyst starts before the other finishes (sequential calls never
    # overlap, however fast or slow the machine is).
    [(a_start, a_end)], [(b_start, b_end)] = a.spans, b.spans
    assert a_start < b_end and b_start < a_end
    assert all(isinstance(case, Incident) for case in a.seen + b.seen)
    assert len(a.seen) == len(b.seen) == len(report.incidents)


def test_one_failed_analyst_means_degraded_review(scenario_lines: list[str]) -> None:
    report = analyze_firewall(scenario_lines, input_format="asa", analysts=["rules", _Broken()])
    decision = report.decisions[0]
    assert decision.outcome is Outcome.NEEDS_REVIEW and decision.degraded
    broken = next(v for v in decision.verdicts if v.analyst == "broken")
    assert broken.is_threat is None and "provider unreachable" in (broken.error or "")


def test_all_analysts_failing_never_dismisses_or_accuses(scenario_lines: list[str]) -> None:
    class _Broken2(_Broken):
        name = "broken2"

    report = analyze_firewall(scenario_lines, input_format="asa", analysts=[_Broken(), _Broken2()])
    assert {d.outcome for d in report.decisions} == {Outcome.NEEDS_REVIEW}
    assert all(d.degraded and d.confidence is None for d in report.decisions)


def test_disagreement_goes_to_a_human(scenario_lines: list[str]) -> None:
    report = analyze_firewall(
        scenario_lines, input_format="asa", analysts=[_Spy("yes"), _Spy("no", is_threat=False)]
    )
    decision = report.decisions[0]
    assert decision.outcome is Outcome.NEEDS_REVIEW and not decision.degraded
    assert "conflicting analysis - manual investigation required" in decision.reasons


def test_checkpoints_in_sqlite_and_resume_in_a_new_saver(
    tmp_path: Path, scenario_lines: list[str]
) -> None:
    db = str(tmp_path / "runs.sqlite")
    config: Any = {"configurable": {"thread_id": "t1"}}
    context = TriageContext(inline_sources=[scenario_lines])

    async def first() -> None:
        async with AsyncSqliteSaver.from_conn_string(db) as saver:
            graph = build_firewall_graph(checkpointer=saver, interrupt_before=["consensus"])
            await graph.ainvoke({"input_format": "asa"}, config, context=context)
            state = await graph.aget_state(config)
            assert state.next == ("consensus",)
            assert "decisions" not in state.values and len(state.values["verdicts"]) == 2

    async def resumed() -> dict[str, Any]:
        async with AsyncSqliteSaver.from_conn_string(db) as saver:
            graph = build_firewall_graph(checkpointer=saver)
            return await graph.ainvoke(None, config)

    asyncio.run(first())
    final = asyncio.run(resumed())
    assert [d["outcome"] for d in final["decisions"]] == ["alert"]
    assert set(final["timings"]) == {"parse_detect", "enrich"}  # ingest did not run again


def test_checkpointer_as_a_path(tmp_path: Path, scenario_lines: list[str]) -> None:
    db = tmp_path / "cp.sqlite"
    report = analyze_firewall(scenario_lines, input_format="asa", checkpointer=db, thread_id="x")
    assert db.exists() and report.alerts


def test_mermaid_drawing_has_every_stage() -> None:
    mermaid = build_firewall_graph().get_graph().draw_mermaid()
    for node in ("parse_detect", "enrich", "analyze", "consensus", "route"):
        assert node in mermaid


def test_mermaid_snapshot_matches_docs() -> None:
    snapshot = Path(__file__).parent / "__snapshots__" / "firewall_graph.mmd"
    assert build_firewall_graph().get_graph().draw_mermaid() == snapshot.read_text()
