"""Hypothesis strategies for consensus: policies with weights and quorums, and verdicts with
every fault an analyst can produce (wrong incident ids, no judgement, invented techniques,
unknown evidence, any status and severity)."""

from __future__ import annotations

from hypothesis import strategies as st

from siem_consensus.consensus import (
    ConsensusPolicy,
    MajorityPolicy,
    UnanimousPolicy,
    WeightedPolicy,
)
from siem_consensus.models import Incident, Severity, Verdict, VerdictStatus

INCIDENT = "inc-1"
EVIDENCE = ("fw.log:1", "fw.log:2", "fw.log:3")
NAMES = ("a1", "a2", "a3", "a4", "a5")
NEW = "new"  # the analyst added by "adding a verdict" properties; never in a drawn list
VALID_TECHNIQUES = ("T1046", "T1110", "T1110.001", "T1595")
INVALID_TECHNIQUES = ("T9999", "T1110.999")

# The boundaries 0 and 1 are drawn often: they are documented cases, not accidents.
thresholds = st.one_of(st.sampled_from([0.0, 0.5, 0.8, 1.0]), st.floats(0, 1))
confidences = st.one_of(st.sampled_from([0.0, 0.5, 0.8, 1.0]), st.floats(0, 1))
weights = st.one_of(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0]), st.floats(0, 10))


def incidents(severity: st.SearchStrategy[Severity] | None = None) -> st.SearchStrategy[Incident]:
    """Incidents with a fixed id and evidence set and any severity."""
    return st.builds(
        Incident,
        id=st.just(INCIDENT),
        detector=st.just("firewall"),
        kind=st.just("port_scan"),
        title=st.just("t"),
        severity=severity if severity is not None else st.sampled_from(list(Severity)),
        score=st.floats(0, 1),
        evidence_event_ids=st.just(EVIDENCE),
    )


@st.composite
def policies(
    draw: st.DrawFn,
    threshold: st.SearchStrategy[float] = thresholds,
    kinds: tuple[str, ...] = ("unanimous", "majority", "weighted"),
) -> ConsensusPolicy:
    """Any policy: majority with or without a quorum, weighted with drawn weights."""
    kind, limit = draw(st.sampled_from(kinds)), draw(threshold)
    if kind == "majority":
        return MajorityPolicy(limit, quorum=draw(st.none() | st.integers(1, 5)))
    if kind == "weighted":
        drawn = draw(st.dictionaries(st.sampled_from([*NAMES, NEW]), weights))
        return WeightedPolicy(limit, weights=drawn)
    return UnanimousPolicy(limit)


@st.composite
def verdict(
    draw: st.DrawFn,
    name: str,
    status: VerdictStatus | None = None,
    *,
    clean: bool = False,
    failures: bool = True,
    is_threat: bool | None = None,
    confidence: st.SearchStrategy[float] = confidences,
) -> Verdict:
    """One verdict from ``name``. ``clean`` verdicts pass verification (right incident, known
    evidence and techniques, a judgement); otherwise any claim may be faulty. Without
    ``failures`` the analyst neither errs nor answers about another incident."""
    statuses = [s for s in VerdictStatus if failures or s is not VerdictStatus.ERROR]
    chosen = status or draw(st.sampled_from(statuses))
    ids = [INCIDENT, INCIDENT, ""] + (["inc-other"] if failures else [])
    about = INCIDENT if clean else draw(st.sampled_from(ids))
    if chosen is VerdictStatus.ERROR:
        return Verdict(analyst=name, incident_id=about, status=chosen, error="boom")
    techniques = VALID_TECHNIQUES if clean else VALID_TECHNIQUES + INVALID_TECHNIQUES
    evidence = EVIDENCE if clean else (*EVIDENCE, "other.log:9")
    judgement = [True, False] if clean else [True, False, None]
    return Verdict(
        analyst=name,
        incident_id=about,
        status=chosen,
        is_threat=is_threat if is_threat is not None else draw(st.sampled_from(judgement)),
        confidence=draw(confidence),
        severity=draw(st.none() | st.sampled_from(list(Severity))),
        attack_techniques=tuple(draw(st.lists(st.sampled_from(techniques), max_size=2))),
        evidence_event_ids=tuple(draw(st.lists(st.sampled_from(evidence), max_size=2))),
        recommended_actions=tuple(draw(st.lists(st.sampled_from(["block", "watch"]), max_size=2))),
    )


@st.composite
def verdict_lists(
    draw: st.DrawFn,
    min_size: int = 0,
    max_size: int = 4,
    *,
    clean: bool = False,
    failures: bool = True,
) -> list[Verdict]:
    """Verdicts from distinct analysts (clean ones are all ``ok`` and pass verification)."""
    n = draw(st.integers(min_size, max_size))
    drawn = []
    for i in range(n):
        # Half of the unconstrained verdicts are clean, so decisive votes are common too.
        tidy = clean or draw(st.booleans())
        status = VerdictStatus.OK if tidy else None
        drawn.append(draw(verdict(NAMES[i], status, clean=tidy, failures=failures)))
    return drawn
