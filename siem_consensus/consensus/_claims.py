"""Before the vote: which verdicts vote on an incident, and whether their claims hold.

:func:`bind_verdicts` makes the vote one verdict per configured analyst, each about the
incident asked; :func:`verify_verdict` checks a verdict's claims in code and turns a verdict
whose claims fail into an abstention (``unverified``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from ..enrich.attack import is_valid_technique
from ..models import Incident, Verdict, VerdictStatus

__all__ = ["Check", "bind_verdicts", "failed", "verify_verdict"]

Check = Callable[[Verdict, Incident], list[str]]
"""An extra claim check: returns the problems it found (empty list: fine)."""


def bind_verdicts(
    incident: Incident, verdicts: Iterable[Verdict], analysts: Sequence[str] | None = None
) -> list[Verdict]:
    """The verdicts that vote on ``incident``: each about it, one per configured analyst.

    A verdict naming another incident becomes an ``error`` verdict ("verdict about X, asked
    about Y"); one without an incident id is taken to be about ``incident``. With
    ``analysts`` (the configured names, in order) the result holds exactly one verdict per
    name: a configured analyst with no verdict, or with several different ones, gets an
    ``error`` verdict, and a verdict from an analyst that is not configured is kept as an
    ``error`` verdict (after the configured ones) so that the decision shows it, degraded.
    """
    bound = [_about(v, incident.id) for v in verdicts]
    if analysts is None:
        return bound
    by_name: dict[str, list[Verdict]] = {}
    for verdict in bound:
        by_name.setdefault(verdict.analyst, []).append(verdict)
    result = [_one(name, by_name.pop(name, []), incident.id) for name in analysts]
    for name in sorted(by_name):
        result.append(failed(name, incident.id, f"{name!r} is not a configured analyst"))
    return result


def verify_verdict(verdict: Verdict, incident: Incident, checks: Sequence[Check] = ()) -> Verdict:
    """Check a verdict's claims in code; a failed check turns it into an abstention.

    Checks: cited event ids exist in the incident's evidence, technique ids are current
    ATT&CK techniques, the verdict is about this incident, a threat judgement was given, plus
    any detector-specific ``checks`` (e.g. the IDS graph's stage plausibility).
    """
    if verdict.status is not VerdictStatus.OK:
        return verdict
    problems = []
    if verdict.incident_id and verdict.incident_id != incident.id:
        problems.append(f"verdict is about {verdict.incident_id!r}, not {incident.id!r}")
    known = set(incident.evidence_event_ids)
    unknown_ids = [eid for eid in verdict.evidence_event_ids if eid not in known]
    if unknown_ids:
        problems.append(f"cites event ids not in the incident: {', '.join(unknown_ids[:5])}")
    bad_techniques = [t for t in verdict.attack_techniques if not is_valid_technique(t)]
    if bad_techniques:
        problems.append(f"unknown ATT&CK technique ids: {', '.join(bad_techniques[:5])}")
    if verdict.is_threat is None:
        problems.append("no threat judgement given")
    for check in checks:
        problems.extend(check(verdict, incident))
    if not problems:
        return verdict
    return verdict.model_copy(
        update={"status": VerdictStatus.UNVERIFIED, "problems": tuple(problems)}
    )


def _about(verdict: Verdict, incident_id: str) -> Verdict:
    if not verdict.incident_id:
        return verdict.model_copy(update={"incident_id": incident_id})
    if verdict.incident_id == incident_id:
        return verdict
    message = f"verdict about {verdict.incident_id}, asked about {incident_id}"
    return failed(verdict.analyst, incident_id, message, verdict)


def _one(name: str, found: list[Verdict], incident_id: str) -> Verdict:
    distinct: list[Verdict] = []
    for verdict in found:
        if verdict not in distinct:
            distinct.append(verdict)
    if len(distinct) == 1:
        return distinct[0]
    if not distinct:
        return failed(name, incident_id, "no verdict from this configured analyst")
    return failed(name, incident_id, f"{len(distinct)} different verdicts about one incident")


def failed(name: str, incident_id: str, message: str, source: Verdict | None = None) -> Verdict:
    """An error verdict (no claims); keeps the source's model, usage and latency for costs."""
    return Verdict(
        analyst=name,
        incident_id=incident_id,
        status=VerdictStatus.ERROR,
        error=message,
        model=source.model if source else None,
        usage=source.usage if source else None,
        latency_s=source.latency_s if source else None,
    )
