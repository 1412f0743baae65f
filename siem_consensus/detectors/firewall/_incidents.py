"""Turn the retained findings of the firewall detector into :class:`Incident` objects.

Findings of one (kind, source, target) in overlapping or adjacent windows are chained into a
single incident; the slot rows they retained are de-duplicated and merged again, so every
number of an incident is computed over exactly the events it spans.
"""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import datetime
from typing import Any

import polars as pl

from ...models import Entities, Event, Incident, Severity
from ._config import FirewallThresholds
from ._rules import TARGET, TARGET_KINDS, Population, beacon_cv, score, tag_fanout
from ._state import KEY, merge_partials, summarize
from ._text import attack_for, reasons_for, title_for

__all__ = ["GROUP", "build_incidents"]

GROUP = ("kind", "source_ip", *TARGET)
_INCIDENT = (*GROUP, "chain")
_MAX_PORTS = 100
_MAX_HOSTS = 50


def build_incidents(
    findings: pl.DataFrame, cfg: FirewallThresholds, population: Population
) -> list[Incident]:
    """Chain, merge and describe the findings; most severe first."""
    if findings.is_empty():
        return []
    chained = _chain(findings, cfg.hops_per_window)
    rows = chained.sort("window", nulls_last=True).unique(
        [*_INCIDENT, "slot", *KEY[1:]], keep="last", maintain_order=True
    )
    targets = tag_fanout(merge_partials(rows, [*_INCIDENT, *KEY[1:]]), cfg)
    windows = chained.group_by(_INCIDENT).agg(pl.col("window").n_unique().alias("windows"))
    summary = summarize(targets, _INCIDENT).join(windows, on=_INCIDENT, nulls_equal=True)
    parts = targets.partition_by(_INCIDENT, as_dict=True)
    incidents = []
    for row in summary.iter_rows(named=True):
        part = parts[tuple(row[c] for c in _INCIDENT)]
        incidents.append(_incident(row, part, cfg, population))
    incidents.sort(key=lambda i: (-i.severity.rank, -i.score, i.id))
    return incidents


def _chain(findings: pl.DataFrame, hops: int) -> pl.DataFrame:
    wins = findings.select(*GROUP, "window").unique()
    new_chain = (pl.col("window").diff() > hops).fill_null(False).cast(pl.Int32).cum_sum()
    timed = (
        wins.filter(pl.col("window").is_not_null())
        .sort(*GROUP, "window", nulls_last=True)
        .with_columns(new_chain.over(GROUP).alias("chain"))
    )
    untimed = wins.filter(pl.col("window").is_null()).with_columns(
        pl.lit(-1, pl.Int32).alias("chain")
    )
    chains = pl.concat([timed, untimed])
    return findings.join(chains, on=[*GROUP, "window"], nulls_equal=True)


def _incident(
    row: dict[str, Any], part: pl.DataFrame, cfg: FirewallThresholds, population: Population
) -> Incident:
    kind: str = row["kind"]
    stats = _stats(row, part, cfg)
    stats["population"] = population.summary(stats["ports"])
    value = score(kind, stats, cfg)
    evidence = _evidence(part, cfg.evidence_limit)
    first_seen: datetime | None = row["t_first"]
    hosts = _top_hosts(part)
    return Incident(
        id=_incident_id(row, first_seen),
        detector="firewall",
        kind=kind,
        title=title_for(kind, row["source_ip"], hosts, stats),
        severity=Severity.from_score(value),
        score=value,
        entities=Entities(source_ips=(row["source_ip"],), destination_ips=hosts),
        first_seen=first_seen,
        last_seen=row["t_last"],
        event_count=int(row["events"]),
        evidence_event_ids=tuple(e.event_id for e in evidence),
        evidence=evidence,
        stats=stats,
        attack=attack_for(kind, stats["internal_source"]),
        reasons=reasons_for(kind, stats, cfg),
    )


def _stats(row: dict[str, Any], part: pl.DataFrame, cfg: FirewallThresholds) -> dict[str, Any]:
    ports = sorted(part["destination_port"].drop_nulls().unique().to_list())
    events = int(row["events"])
    duration = (row["t_last"] - row["t_first"]).total_seconds() if row["t_first"] else 0.0
    beacon = None
    if row["kind"] in TARGET_KINDS and part.height == 1:
        beacon = beacon_cv(part["g_n"][0], part["g_sum"][0], part["g_sq"][0])
    stats: dict[str, Any] = {
        "events": events,
        "distinct_ports": int(row["ports"]),
        "distinct_hosts": int(row["hosts"]),
        "ports": ports[:_MAX_PORTS],
        "sensitive_ports": sorted(set(ports) & cfg.sensitive_ports),
        "deny_ratio": round(int(row["deny"]) / events, 4) if events else 0.0,
        "duration_s": round(duration, 3),
        "rate_per_min": round(events * 60.0 / max(duration, 60.0), 3),
        "max_attempts_same_target": int(row["max_attempts"]),
        "internal_source": cfg.is_internal(row["source_ip"]),
        "windows": int(row["windows"]),
        "beacon_cv": round(beacon[0], 4) if beacon else None,
        "beacon_interval_s": round(beacon[1], 3) if beacon else None,
        "target": None,
    }
    if row["kind"] in TARGET_KINDS:
        stats["target"] = {
            "destination_ip": row["t_dst"],
            "destination_port": row["t_dport"],
            "transport": row["t_transport"],
        }
    return stats


def _incident_id(row: dict[str, Any], first_seen: datetime | None) -> str:
    when = first_seen.isoformat() if first_seen else "untimed"
    target = "/".join(str(row[c]) for c in TARGET) if row["kind"] in TARGET_KINDS else ""
    digest = hashlib.sha256(f"{row['kind']}|{row['source_ip']}|{target}|{when}".encode())
    return "fw-" + digest.hexdigest()[:16]


def _top_hosts(part: pl.DataFrame) -> tuple[str, ...]:
    hosts = (
        part.filter(pl.col("destination_ip").is_not_null())
        .group_by("destination_ip")
        .agg(pl.col("n").sum())
        .sort(["n", "destination_ip"], descending=[True, False])
        .head(_MAX_HOSTS)["destination_ip"]
        .to_list()
    )
    return tuple(sorted(hosts, key=_ip_order))


def _ip_order(address: str) -> tuple[int, int, str]:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return (9, 0, address)
    return (ip.version, int(ip), address)


def _evidence(part: pl.DataFrame, limit: int) -> tuple[Event, ...]:
    ordered = part.sort("t_first", "f_input", "f_line", nulls_last=True)
    chosen: dict[str, Event] = {}
    for prefix, ts in (("f_", "t_first"), ("l_", "t_last")):
        for row in ordered.iter_rows(named=True):
            if len(chosen) >= limit:
                break
            event = _event(row, prefix, row[ts])
            chosen.setdefault(event.event_id, event)
    return tuple(sorted(chosen.values(), key=_event_order))


def _event_order(event: Event) -> tuple[float, str]:
    return (event.timestamp.timestamp() if event.timestamp else 0.0, event.event_id)


def _event(row: dict[str, Any], prefix: str, when: datetime | None) -> Event:
    return Event.model_validate(
        {
            "event_id": f"{row[prefix + 'input']}:{row[prefix + 'line']}",
            "@timestamp": when,
            "event.action": row[prefix + "action"],
            "rule.name": row[prefix + "rule"],
            "source.ip": row["source_ip"],
            "source.port": row[prefix + "sport"],
            "destination.ip": row["destination_ip"],
            "destination.port": row["destination_port"],
            "network.transport": row["network_transport"],
        }
    )
