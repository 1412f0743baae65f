"""The IDS graph: validate checks claims in code, and the check changes the outcome."""

from __future__ import annotations

from functools import cache

from siem_consensus import (
    IdsReport,
    Incident,
    Outcome,
    Verdict,
    VerdictStatus,
    build_ids_graph,
    correlate_ids_alerts,
)
from siem_consensus.generators.ids import scenario_2
from siem_consensus.graphs.ids import stages_observed


@cache
def _report() -> IdsReport:
    return correlate_ids_alerts(scenario_2(seed=7), input_format="suricata")


def _campaign() -> Incident:
    return next(i for i in _report().incidents if i.kind == "campaign")


class _Claims:
    """An analyst that claims whatever techniques it is given."""

    def __init__(self, name: str, techniques: tuple[str, ...]) -> None:
        self.name, self.techniques = name, techniques

    async def analyze(self, case: Incident) -> Verdict:
        return Verdict(
            analyst=self.name,
            incident_id=case.id,
            is_threat=True,
            confidence=0.95,
            attack_techniques=self.techniques,
        )


def test_stage_names_follow_the_chapter() -> None:
    mermaid = build_ids_graph().get_graph().draw_mermaid()
    for node in ("parse", "enrich", "analyze", "validate", "alert"):
        assert f"{node}(" in mermaid


def test_claimed_stage_never_observed_is_rejected() -> None:
    scan_only = _campaign().model_copy(
        update={"stats": {"tactics": ["Reconnaissance"]}, "attack": ()}
    )
    verdict = Verdict(
        analyst="x",
        incident_id=scan_only.id,
        is_threat=True,
        confidence=0.9,
        attack_techniques=("T1595", "T1048"),
    )
    problems = stages_observed(verdict, scan_only)
    assert len(problems) == 1 and "T1048" in problems[0]


def test_validation_changes_the_outcome() -> None:
    honest = _Claims("honest", ("T1190",))
    inventor = _Claims("inventor", ("T1486",))  # ransomware: no impact-stage alert exists
    report = correlate_ids_alerts(
        scenario_2(seed=7), input_format="suricata", analysts=[honest, inventor], policy="unanimous"
    )
    decision = report.decision_for(_campaign().id)
    assert decision.outcome is Outcome.NEEDS_REVIEW
    inventor_verdict = next(v for v in decision.verdicts if v.analyst == "inventor")
    assert inventor_verdict.status is VerdictStatus.UNVERIFIED
    assert "T1486" in inventor_verdict.problems[0]
    # One analyst: unanimity of one voice never alerts, so the single vote goes to majority.
    honest_only = correlate_ids_alerts(
        scenario_2(seed=7), input_format="suricata", analysts=[honest], policy="majority"
    )
    assert honest_only.decision_for(_campaign().id).outcome is Outcome.ALERT


def test_noise_is_not_an_alert() -> None:
    report = _report()
    assert len(report.alerts) == 1
    assert all(
        i.kind != "campaign" for i in report.incidents if i.id != report.alerts[0].incident_id
    )
