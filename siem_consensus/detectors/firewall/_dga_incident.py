"""DGA-like DNS findings as incidents: supporting evidence of a beacon, or a ``dga`` incident.

A host that looks up many generated domains is hunting for its command-and-control server; a
host that then calls one out on a schedule has found it. So:

* a finding within ``dga_beacon_link_s`` of a ``beaconing`` incident of the same source is
  attached to it: the beacon's ``stats["dga"]`` holds the finding's statistics, a reason says
  what was seen, ATT&CK T1568.002 (Dynamic Resolution: Domain Generation Algorithms) is added,
  its score rises by :data:`LINK_BONUS`, and the failed lookups join its evidence (within
  ``evidence_limit``);
* any other finding becomes its own ``dga`` incident (ATT&CK T1568.002), scored by
  :func:`dga_score`: 0.5, +0.1 from three times ``dga_min_failed_domains``, +0.05 when 80% of
  the names look algorithmic (medium, or high at 0.65).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from ...enrich.attack import attack_ref
from ...models import Entities, Event, Incident, Severity
from ._config import FirewallThresholds
from ._dga import DgaFinding
from ._text import human_duration

__all__ = ["DGA", "LINK_BONUS", "attach_dga", "dga_score"]

DGA = "dga"
"""Kind of a DGA incident."""
LINK_BONUS = 0.15
"""Added to a beacon's score when DGA-like DNS of the same host supports it."""
_TECHNIQUE = "T1568.002"


def attach_dga(
    incidents: Sequence[Incident], findings: Sequence[DgaFinding], cfg: FirewallThresholds
) -> list[Incident]:
    """The incidents with each finding attached to a beacon, or added as a ``dga`` incident."""
    out = list(incidents)
    for finding in findings:
        linked = [n for n, i in enumerate(out) if _supports(finding, i, cfg)]
        if linked:
            for n in linked:
                out[n] = _supported(out[n], finding, cfg)
        else:
            out.append(_incident(finding, cfg))
    out.sort(key=lambda i: (-i.severity.rank, -i.score, i.id))
    return out


def _supports(finding: DgaFinding, incident: Incident, cfg: FirewallThresholds) -> bool:
    if incident.kind != "beaconing" or incident.entities.source_ips[:1] != (finding.source_ip,):
        return False
    if None in (finding.first_seen, finding.last_seen, incident.first_seen, incident.last_seen):
        return finding.first_seen is None and incident.first_seen is None
    assert finding.first_seen and finding.last_seen and incident.first_seen and incident.last_seen
    gap = max(
        (incident.first_seen - finding.last_seen).total_seconds(),
        (finding.first_seen - incident.last_seen).total_seconds(),
        0.0,
    )
    return gap <= cfg.dga_beacon_link_s


def _supported(incident: Incident, finding: DgaFinding, cfg: FirewallThresholds) -> Incident:
    score = min(incident.score + LINK_BONUS, 1.0)
    attack = incident.attack
    if all(a.technique_id != _TECHNIQUE for a in attack):
        attack = (*attack, attack_ref(_TECHNIQUE))
    evidence = _merge(incident.evidence, finding.evidence, cfg.evidence_limit)
    return incident.model_copy(
        update={
            "score": score,
            "severity": Severity.from_score(score),
            "attack": attack,
            "stats": {**incident.stats, "dga": _without_population(finding.stats)},
            "reasons": (*incident.reasons, f"Supporting evidence: {_summary(finding.stats)}"),
            "evidence": evidence,
            "evidence_event_ids": tuple(e.event_id for e in evidence),
        }
    )


def _without_population(stats: dict[str, Any]) -> dict[str, Any]:
    """The finding's statistics; the beacon keeps its own (connection) population."""
    return {key: value for key, value in stats.items() if key != "population"}


def _merge(own: Sequence[Event], extra: Sequence[Event], limit: int) -> tuple[Event, ...]:
    """The incident's evidence first, then failed lookups, up to ``limit`` (at least a fifth)."""
    room = max(limit - len(own), min(len(extra), max(limit // 5, 1)))
    kept = list(own)[: limit - min(room, len(extra))]
    chosen = {e.event_id: e for e in [*kept, *list(extra)[:room]]}
    return tuple(sorted(chosen.values(), key=_order))


def _order(event: Event) -> tuple[float, str]:
    return (event.timestamp.timestamp() if event.timestamp else 0.0, event.event_id)


def dga_score(stats: dict[str, Any], cfg: FirewallThresholds) -> float:
    """Score of a ``dga`` incident (see the module docstring)."""
    score = 0.5
    if stats["failed_domains"] >= 3 * cfg.dga_min_failed_domains:
        score += 0.1
    if (stats["algorithmic_share"] or 0.0) >= 0.8:
        score += 0.05
    return round(score, 4)


def _summary(stats: dict[str, Any], subject: str = "the same host") -> str:
    share = round(100 * (stats["algorithmic_share"] or 0.0))
    return (
        f"{subject} had {stats['failed_domains']} distinct domains answered NXDOMAIN "
        f"({stats['failed_lookups']} of its {stats['lookups']} lookups), {share}% of them "
        f"algorithmic-looking, {stats['domains_per_tld']} per top-level domain: DGA-like DNS."
    )


def _incident(finding: DgaFinding, cfg: FirewallThresholds) -> Incident:
    stats = finding.stats
    score = dga_score(stats, cfg)
    when = finding.first_seen.isoformat() if finding.first_seen else "untimed"
    digest = hashlib.sha256(f"{DGA}|{finding.source_ip}|{when}".encode())
    span = human_duration(stats["duration_s"])
    return Incident(
        id="fw-" + digest.hexdigest()[:16],
        detector="firewall",
        kind=DGA,
        title=(
            f"DGA-like DNS: {finding.source_ip} had {stats['failed_domains']} distinct "
            f"domains fail (NXDOMAIN) in {span}"
        ),
        severity=Severity.from_score(score),
        score=score,
        entities=Entities(source_ips=(finding.source_ip,)),
        first_seen=finding.first_seen,
        last_seen=finding.last_seen,
        event_count=stats["failed_lookups"],
        evidence_event_ids=tuple(e.event_id for e in finding.evidence),
        evidence=finding.evidence,
        stats={**stats, "target": None, "windows": 1},
        attack=(attack_ref(_TECHNIQUE),),
        reasons=(
            _summary(stats, finding.source_ip),
            f"Each failed domain was asked for {stats['lookups_per_domain']} times on average "
            f"(at most {cfg.dga_max_lookups_per_domain} for a generator moving on).",
            "No beacon of this host was found: the generated names may not have reached a "
            "live command-and-control server yet.",
        ),
    )
