"""Hypothesis strategies for the core models."""

from __future__ import annotations

from hypothesis import strategies as st

from siem_consensus.models import Incident, Severity, Verdict, VerdictStatus

EVIDENCE = ("fw.log:1", "fw.log:2", "fw.log:3")
NAMES = ("a1", "a2", "a3", "a4", "a5")


def incidents(severity: st.SearchStrategy[Severity] | None = None) -> st.SearchStrategy[Incident]:
    """Incidents with a fixed evidence set and any severity."""
    return st.builds(
        Incident,
        id=st.just("inc-1"),
        detector=st.just("firewall"),
        kind=st.just("port_scan"),
        title=st.just("t"),
        severity=severity if severity is not None else st.sampled_from(list(Severity)),
        score=st.floats(0, 1),
        evidence_event_ids=st.just(EVIDENCE),
    )


@st.composite
def verdict(draw: st.DrawFn, name: str, status: VerdictStatus | None = None) -> Verdict:
    """One verdict from analyst ``name``; errors carry no claims."""
    chosen = status or draw(st.sampled_from(list(VerdictStatus)))
    if chosen is VerdictStatus.ERROR:
        return Verdict(analyst=name, incident_id="inc-1", status=chosen, error="boom")
    return Verdict(
        analyst=name,
        incident_id="inc-1",
        status=chosen,
        is_threat=draw(st.booleans()),
        confidence=draw(st.floats(0, 1)),
        evidence_event_ids=tuple(draw(st.lists(st.sampled_from(EVIDENCE), max_size=2))),
    )


@st.composite
def verdict_lists(
    draw: st.DrawFn, min_size: int = 1, max_size: int = 4, ok_only: bool = False
) -> list[Verdict]:
    """Verdicts from distinct analysts."""
    n = draw(st.integers(min_size, max_size))
    status = VerdictStatus.OK if ok_only else None
    return [draw(verdict(NAMES[i], status)) for i in range(n)]
