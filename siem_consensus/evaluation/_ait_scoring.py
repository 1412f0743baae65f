"""Scoring of one AIT-ADS scenario: labels x incident membership x decisions.

Per phase (``detail``): its alerts, how many are members of an incident of each scope, the
incidents touching it by outcome, degraded ones, and ``severity``, the highest severity of an
incident holding one of its alerts (``none`` when no incident does). ``false_incidents``: per
scope, incidents none of whose member alerts falls in an attack interval (every member's
``time_label`` is ``false_positive``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import polars as pl

from ..models import Decision, Incident, Outcome, Severity
from ._decisions import OUTCOMES, outcome_counts, outcomes_by_incident, reaches_human

__all__ = ["SCOPES", "score", "totals"]

SCOPES = ("alert", "review", "medium", "any")
"""alert: an alert decision; review: alert or needs_review (not degraded); medium: incident
severity >= medium; any: any incident."""


def _ids(incidents: Sequence[Incident], keep: Any) -> pl.Series:
    return pl.Series([i.id for i in incidents if keep(i)], dtype=pl.String)


def score(
    labels: pl.DataFrame,
    incidents: Sequence[Incident],
    decisions: Sequence[Decision],
    members: pl.DataFrame,
    days: float,
) -> dict[str, Any]:
    """Detector and decision figures of one scenario (see the evaluation module)."""
    by_id = outcomes_by_incident(decisions)
    scope_ids = {
        "alert": _ids(incidents, lambda i: reaches_human(by_id.get(i.id), alert_only=True)),
        "review": _ids(incidents, lambda i: reaches_human(by_id.get(i.id))),
        "medium": _ids(incidents, lambda i: i.severity.rank >= Severity.MEDIUM.rank),
        "any": _ids(incidents, lambda i: True),
    }
    joined = labels.join(members, on="line", how="left").with_columns(
        pl.col("incident_id").is_in(ids.implode()).fill_null(False).alias(scope)
        for scope, ids in scope_ids.items()
    )
    alerts = joined.height
    attack_time = pl.col("time_label") != "false_positive"
    attack_event = pl.col("event_label") != "-"
    counts = outcome_counts(decisions, days)
    counts["attack_incidents_dismissed"] = _attack_dismissed(joined, by_id, attack_event)
    load = counts["review_load"]
    severity = {i.id: i.severity for i in incidents}
    touched = set(joined.filter(attack_time)["incident_id"].drop_nulls().unique().to_list())
    return {
        "alerts": alerts,
        "days": round(days, 2),
        "incidents": len(incidents),
        "incidents_medium": sum(1 for i in incidents if i.severity.rank >= Severity.MEDIUM.rank),
        "by_kind": dict(sorted(Counter(i.kind for i in incidents).items())),
        "by_severity": dict(sorted(Counter(str(i.severity) for i in incidents).items())),
        "alerts_per_incident": round(alerts / len(incidents), 1) if incidents else None,
        "alerts_per_review": round(alerts / load, 1) if load else None,
        "decisions": counts,
        "false_incidents": {
            scope: sum(1 for i in ids.to_list() if i not in touched)
            for scope, ids in scope_ids.items()
        },
        "time_phases": _phases(joined, "time_label", attack_time, by_id, severity),
        "event_phases": _phases(joined, "event_label", attack_event, by_id, severity),
        "event_label": _precision_recall(joined, attack_event),
        "time_label": _precision_recall(joined, attack_time),
    }


def _attack_dismissed(joined: pl.DataFrame, by_id: dict[str, Decision], attack: pl.Expr) -> int:
    """Dismissed incidents holding at least one precisely labelled attack alert."""
    hit = joined.filter(attack & pl.col("incident_id").is_not_null())["incident_id"].unique()
    return sum(1 for i in hit.to_list() if (d := by_id.get(i)) and d.outcome is Outcome.DISMISSED)


def _phases(
    joined: pl.DataFrame,
    column: str,
    attack: pl.Expr,
    by_id: dict[str, Decision],
    severity: dict[str, Severity],
) -> dict[str, Any]:
    attacks = joined.filter(attack)
    table = attacks.group_by(column).agg(
        pl.len().alias("alerts"),
        *(pl.col(s).sum() for s in SCOPES),
        pl.col("incident_id").drop_nulls().unique().alias("ids"),
    )
    rows: dict[str, dict[str, Any]] = {}
    for r in table.sort(column).rows(named=True):
        outcomes = Counter(by_id[i].outcome.value for i in r["ids"] if i in by_id)
        row: dict[str, Any] = {k: int(r[k]) for k in ("alerts", *SCOPES)}
        row["incidents"] = {o: outcomes.get(o, 0) for o in OUTCOMES}
        row["degraded"] = sum(1 for i in r["ids"] if i in by_id and by_id[i].degraded)
        levels = [severity[i] for i in r["ids"] if i in severity]
        row["severity"] = str(max(levels, key=lambda v: v.rank)) if levels else "none"
        rows[r[column]] = row
    return {
        "phases": len(rows),
        **{f"covered_{s}": sum(1 for r in rows.values() if r[s]) for s in SCOPES},
        "missed_medium": sorted(p for p, r in rows.items() if not r["medium"]),
        "missed_review": sorted(p for p, r in rows.items() if not r["review"]),
        "dismissed_only": sorted(p for p, r in rows.items() if r["any"] and not r["review"]),
        "detail": rows,
    }


def _precision_recall(joined: pl.DataFrame, attack: pl.Expr) -> dict[str, Any]:
    out: dict[str, Any] = {}
    truth = joined.select(attack.sum()).item()
    for scope in SCOPES:
        kept = joined.select(pl.col(scope).sum()).item()
        hits = joined.select((pl.col(scope) & attack).sum()).item()
        out[scope] = {
            "members": int(kept),
            "precision": round(hits / kept, 4) if kept else None,
            "recall": round(hits / truth, 4) if truth else None,
        }
    return out


def totals(per: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Totals over scenarios: alerts, incidents, phases per scope, review load."""
    alerts = sum(r["alerts"] for r in per.values())
    incidents = sum(r["incidents"] for r in per.values())
    loads = [r["decisions"]["review_load"] for r in per.values()]
    out: dict[str, Any] = {
        "alerts": alerts,
        "incidents": incidents,
        "alerts_per_incident": round(alerts / incidents, 1) if incidents else None,
        "min_alerts_per_incident": min((r["alerts_per_incident"] or 0) for r in per.values()),
        "review_load": sum(loads),
        "max_review_load": max(loads, default=0),
        "min_alerts_per_review": min((r["alerts_per_review"] or 0) for r in per.values()),
        "decisions": {
            k: sum(r["decisions"][k] for r in per.values())
            for k in (*OUTCOMES, "degraded", "errors", "attack_incidents_dismissed")
        },
        "false_incidents": {
            scope: sum(r["false_incidents"][scope] for r in per.values()) for scope in SCOPES
        },
        "seconds": round(sum(r["seconds"] for r in per.values()), 2),
    }
    for kind in ("time_phases", "event_phases"):
        phases = sum(r[kind]["phases"] for r in per.values())
        for scope in SCOPES:
            covered = sum(r[kind][f"covered_{scope}"] for r in per.values())
            out[f"{kind}_{scope}"] = f"{covered}/{phases}"
            out[f"{kind}_{scope}_share"] = round(covered / phases, 4) if phases else None
    return out
