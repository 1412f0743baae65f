"""Slow findings next to the windows' findings, and internet background scanning as one incident.

The long horizon (:mod:`._horizon`) re-finds every fast scanner the windows found; those
repeats are dropped. What is left is slow:

* an **internal** source scanning or sweeping slowly keeps an incident of its own (a host
  inside mapping the network is rare and serious), titled "Slow port scan" / "Slow network
  sweep";
* an **external** source sweeping many hosts keeps one too;
* **external** sources slowly probing the ports of one host are internet background scanning:
  every exposed address gets it all day. They become **one** ``internet_scan`` incident per
  target host and horizon bucket that lists its sources, not one incident per scanner. It is
  ``medium`` when some source reached a sensitive port (the firewall allowed at least one of
  its connections to it: the service is exposed), else ``low``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ...enrich.attack import attack_ref
from ...models import Entities, Event, Incident, Severity
from ._config import FirewallThresholds
from ._horizon import FAN_OUT_KINDS
from ._text import human_duration

__all__ = ["INTERNET_SCAN", "combine"]

INTERNET_SCAN = "internet_scan"
"""Kind of the grouped incident."""

_MAX_SOURCES = 200
_MAX_PORTS = 100
_SCORE = {Severity.LOW: 0.3, Severity.MEDIUM: 0.5}


def combine(
    fast: Sequence[Incident], slow: Sequence[Incident], cfg: FirewallThresholds
) -> list[Incident]:
    """The windows' incidents, the slow ones they did not already find, and the groups."""
    new = [i for i in slow if not _already_found(i, fast)]
    single = [_slow(i) for i in new if i.stats["internal_source"] or i.kind != "port_scan"]
    groups: dict[tuple[tuple[str, ...], int], list[Incident]] = {}
    for incident in new:
        if incident.kind == "port_scan" and not incident.stats["internal_source"]:
            key = (incident.entities.destination_ips, _bucket(incident, cfg))
            groups.setdefault(key, []).append(incident)
    grouped = [_internet_scan(members, cfg) for _, members in sorted(groups.items())]
    out = [*fast, *single, *grouped]
    out.sort(key=lambda i: (-i.severity.rank, -i.score, i.id))
    return out


def _already_found(slow: Incident, fast: Sequence[Incident]) -> bool:
    """A window incident of a fan-out kind for the same source overlaps it in time."""
    for incident in fast:
        if incident.kind not in FAN_OUT_KINDS:
            continue
        if incident.entities.source_ips != slow.entities.source_ips:
            continue
        if _overlap(incident, slow):
            return True
    return False


def _overlap(a: Incident, b: Incident) -> bool:
    if None in (a.first_seen, a.last_seen, b.first_seen, b.last_seen):
        return False
    assert a.first_seen and a.last_seen and b.first_seen and b.last_seen
    return a.first_seen <= b.last_seen and b.first_seen <= a.last_seen


def _bucket(incident: Incident, cfg: FirewallThresholds) -> int:
    first = incident.first_seen
    span = cfg.long_horizon_s or 86_400
    return int(first.timestamp()) // span if first else -1


def _slow(incident: Incident) -> Incident:
    """A slow finding on its own; an internal source is at least ``high``."""
    title = incident.title
    update: dict[str, Any] = {
        "title": f"Slow {title[0].lower()}{title[1:]}",
        "stats": {**incident.stats, "horizon": "long"},
    }
    if incident.stats["internal_source"] and incident.severity.rank < Severity.HIGH.rank:
        update["severity"] = Severity.HIGH
        update["score"] = max(incident.score, 0.65)
    return incident.model_copy(update=update)


def _internet_scan(members: list[Incident], cfg: FirewallThresholds) -> Incident:
    members = sorted(members, key=lambda i: (-i.event_count, i.entities.source_ips))
    hosts = members[0].entities.destination_ips
    stats = _stats(members, cfg)
    severity = Severity.MEDIUM if stats["exposed_sensitive_ports"] else Severity.LOW
    first = min(i.first_seen for i in members if i.first_seen)
    last = max(i.last_seen for i in members if i.last_seen)
    target = hosts[0] if len(hosts) == 1 else f"{len(hosts)} hosts"
    return Incident(
        id=_group_id(hosts, first),
        detector="firewall",
        kind=INTERNET_SCAN,
        title=(
            f"Internet scanning of {target}: {stats['sources']} source"
            f"{'' if stats['sources'] == 1 else 's'} probed {stats['distinct_ports']} ports"
            f" over {human_duration(stats['duration_s'])}"
        ),
        severity=severity,
        score=_SCORE[severity],
        entities=Entities(
            source_ips=tuple(i.entities.source_ips[0] for i in members[:_MAX_SOURCES]),
            destination_ips=hosts,
        ),
        first_seen=first,
        last_seen=last,
        event_count=sum(i.event_count for i in members),
        evidence_event_ids=tuple(e.event_id for e in _evidence(members, cfg.evidence_limit)),
        evidence=_evidence(members, cfg.evidence_limit),
        stats=stats,
        attack=(attack_ref("T1595"),),
        reasons=_reasons(stats, target, cfg),
    )


def _stats(members: list[Incident], cfg: FirewallThresholds) -> dict[str, Any]:
    ports = sorted({p for i in members for p in i.stats["ports"]})
    events = sum(i.event_count for i in members)
    denied = sum(i.stats["deny_ratio"] * i.event_count for i in members)
    first = min(i.first_seen for i in members if i.first_seen)
    last = max(i.last_seen for i in members if i.last_seen)
    exposed = sorted(
        {p for i in members if i.stats["deny_ratio"] < 1.0 for p in i.stats["sensitive_ports"]}
    )
    duration = (last - first).total_seconds()
    return {
        "events": events,
        "sources": len(members),
        "distinct_ports": len(ports),
        "distinct_hosts": len(members[0].entities.destination_ips),
        "ports": ports[:_MAX_PORTS],
        "sensitive_ports": sorted(set(ports) & cfg.sensitive_ports),
        "exposed_sensitive_ports": exposed,
        "max_ports_per_source": max(i.stats["distinct_ports"] for i in members),
        "deny_ratio": round(denied / events, 4) if events else 0.0,
        "duration_s": round(duration, 3),
        "rate_per_min": round(events * 60.0 / max(duration, 60.0), 3),
        "internal_source": False,
        "horizon": "long",
        "target": None,
    }


def _reasons(stats: dict[str, Any], target: str, cfg: FirewallThresholds) -> tuple[str, ...]:
    horizon = human_duration(cfg.long_horizon_s or 86_400)
    reasons = [
        f"{stats['sources']} external source(s) each probed more than {cfg.slow_scan_ports} ports"
        f" of {target} within {horizon}, too slowly for the {human_duration(cfg.window_s)}"
        " window rules (the most from one source: "
        f"{stats['max_ports_per_source']} ports).",
        f"{stats['events']} events, {round(100 * stats['deny_ratio'])}% denied by the firewall.",
    ]
    if stats["exposed_sensitive_ports"]:
        listed = ", ".join(str(p) for p in stats["exposed_sensitive_ports"])
        reasons.append(f"Sensitive ports reachable from the internet were probed: {listed}.")
    else:
        reasons.append("Routine for an internet-facing address: no sensitive service answered.")
    return tuple(reasons)


def _evidence(members: list[Incident], limit: int) -> tuple[Event, ...]:
    chosen: dict[str, Event] = {}
    depth = 0
    while len(chosen) < limit and any(depth < len(i.evidence) for i in members):
        for incident in members:  # round robin: every source is shown before any twice
            if depth < len(incident.evidence) and len(chosen) < limit:
                event = incident.evidence[depth]
                chosen.setdefault(event.event_id, event)
        depth += 1
    return tuple(sorted(chosen.values(), key=_order))


def _order(event: Event) -> tuple[float, str]:
    return (event.timestamp.timestamp() if event.timestamp else 0.0, event.event_id)


def _group_id(hosts: tuple[str, ...], first: datetime) -> str:
    digest = hashlib.sha256(f"{INTERNET_SCAN}|{','.join(hosts)}|{first.isoformat()}".encode())
    return "fw-" + digest.hexdigest()[:16]
