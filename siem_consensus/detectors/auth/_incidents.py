"""Turn findings of the authentication detector into :class:`Incident` objects.

Score (0-1) = base + 0.2 B + 0.25 T + 0.3 S, capped at 1, where

* base: 0.65 ``success_after_failures``, 0.35 ``password_spraying``, 0.3
  ``account_brute_force`` and ``distributed_brute_force``, 0.2 ``user_enumeration`` and
  ``background_guessing`` (whose B counts its sources against a threshold of one);
* B, breadth: ``min(1, log10(observed / threshold))`` of the rule's number (failures,
  accounts, sources, names), so ten times the threshold is full breadth;
* T, targeted: 1 when a source is internal or an attempted account exists and is not one of
  the ``common_accounts`` that internet-wide guessing tries everywhere; else 0 (*internet
  background*);
* S, success: 1 when the covered sources logged in to a covered account.

So a success after failures is high (critical when targeted), background guessing on ``root``
stays low or medium however long it lasts, and guessing aimed at this site's own accounts or
coming from inside reaches medium or high.
"""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import UTC, datetime
from typing import Any

import polars as pl

from ...models import Entities, Event, Incident, Severity
from ._config import AuthThresholds
from ._rules import Finding, Population, breadth
from ._text import attack_for, reasons_for, title_for

__all__ = ["build_incident", "incident_order"]

_BASE = {
    "success_after_failures": 0.65,
    "password_spraying": 0.35,
    "account_brute_force": 0.3,
    "distributed_brute_force": 0.3,
    "user_enumeration": 0.2,
    "background_guessing": 0.2,
}


def _top(rows: pl.DataFrame, column: str, limit: int) -> list[str]:
    ranked = (
        rows.filter(pl.col(column).is_not_null())
        .group_by(column)
        .agg(pl.col("n").sum())
        .sort(["n", column], descending=[True, False])
        .head(limit)
    )
    return sorted(ranked[column].to_list())


def _stats(finding: Finding, cfg: AuthThresholds) -> dict[str, Any]:
    rows = finding.rows
    first, last = _times(rows)
    duration = (last - first).total_seconds() if first and last else 0.0
    sources = rows["source_ip"].drop_nulls().unique().to_list()
    valid = rows.filter((pl.col("inv") == 0) & pl.col("user_name").is_not_null())
    accounts = rows["user_name"].drop_nulls().unique().to_list()
    specific = sorted(u for u in valid["user_name"].unique().to_list() if not cfg.is_common(u))
    internal = sorted(s for s in sources if cfg.is_internal(s))
    failures, successes = int(rows["fails"].sum()), int(rows["succ"].sum())
    targeted = bool(internal or specific)
    limit = cfg.max_entities
    return {
        "events": int(rows["n"].sum()),
        "failures": failures,
        "successes": successes,
        "invalid_events": int(rows["inv"].sum()),
        "invalid_accounts": rows.filter(pl.col("inv") > 0)["user_name"].drop_nulls().n_unique(),
        "distinct_sources": len(sources),
        "distinct_accounts": len(accounts),
        "distinct_hosts": rows["target"].drop_nulls().n_unique(),
        "sources": _top(rows, "source_ip", limit),
        "accounts": _top(rows, "user_name", limit),
        "hosts": _top(rows, "target", limit),
        "specific_accounts": specific[:limit],
        "internal_sources": internal[:limit],
        "internal_source": bool(internal),
        "targeted": targeted,
        "background": not targeted and successes == 0,
        "duration_s": round(duration, 3),
        "rate_per_hour": round(failures * 3600.0 / max(duration, 3600.0), 3),
        "max_failures_one_source": int(
            rows.group_by("source_ip").agg(pl.col("fails").sum())["fails"].max() or 0  # type: ignore[arg-type]
        ),
        "rule": {"observed": finding.observed, "threshold": finding.threshold},
        "failures_before_success": (
            finding.observed if finding.kind == "success_after_failures" else None
        ),
        "window_start": _window_start(finding.window, cfg),
        **finding.extra,
    }


def _window_start(window: int | None, cfg: AuthThresholds) -> str | None:
    if window is None:
        return None
    return datetime.fromtimestamp(window * cfg.window_s, UTC).isoformat()


def score(kind: str, stats: dict[str, Any]) -> float:
    """The documented score (module docstring)."""
    rule = stats["rule"]
    value = (
        _BASE[kind]
        + 0.2 * breadth(float(rule["observed"]), float(rule["threshold"]))
        + 0.25 * bool(stats["targeted"])
        + 0.3 * (int(stats["successes"]) > 0)
    )
    return round(min(1.0, value), 4)


def _times(rows: pl.DataFrame) -> tuple[datetime | None, datetime | None]:
    """First and last timestamp of the rows (None when untimed)."""
    first, last = rows["t_first"].min(), rows["t_last"].max()
    return (
        first if isinstance(first, datetime) else None,
        last if isinstance(last, datetime) else None,
    )


def build_incident(finding: Finding, cfg: AuthThresholds, population: Population) -> Incident:
    """Describe one finding as an incident (stats, score, evidence, ATT&CK, reasons)."""
    stats = _stats(finding, cfg)
    stats["population"] = population.summary()  # so far; the detector completes it at finish
    value = score(finding.kind, stats)
    evidence = _evidence(finding.rows, cfg.evidence_limit)
    first, last = _times(finding.rows)
    return Incident(
        id=_incident_id(finding),
        detector="auth",
        kind=finding.kind,
        title=title_for(finding.kind, stats),
        severity=Severity.from_score(value),
        score=value,
        entities=Entities(
            source_ips=tuple(stats["sources"]),
            users=tuple(stats["accounts"]),
            hosts=tuple(stats["hosts"]),
        ),
        first_seen=first,
        last_seen=last,
        event_count=stats["events"],
        evidence_event_ids=tuple(e.event_id for e in evidence),
        evidence=evidence,
        stats=stats,
        attack=attack_for(finding.kind),
        reasons=reasons_for(finding.kind, stats, cfg),
    )


def incident_order(incident: Incident) -> tuple[int, float, str]:
    """Most severe first, then highest score, then id."""
    return (-incident.severity.rank, -incident.score, incident.id)


def _incident_id(finding: Finding) -> str:
    subject = "|".join(
        str(finding.extra.get(k) if finding.extra else "")
        for k in ("source_ip", "user_name", "target")
    )
    rows = finding.rows
    keys = ",".join(
        sorted(
            {
                f"{r[0]}/{r[1]}/{r[2]}"
                for r in rows.select("source_ip", "user_name", "target").iter_rows()
            }
        )
    )
    digest = hashlib.sha256(f"{finding.kind}|{finding.window}|{subject}|{keys}".encode())
    return "auth-" + digest.hexdigest()[:16]


# (event id column, time column, outcome) of the events a state row can show
_SAMPLES = (("e_fs", "t_fs", "success"), ("e_ff", "t_ff", "failure"), ("e_inv", "t_first", None))
_LAST = ("e_lf", "t_lf", "failure")


def _evidence(rows: pl.DataFrame, limit: int) -> tuple[Event, ...]:
    """Successes first, then first failures and invalid-user events of the busiest rows, then
    last failures; at most ``limit``, in time order."""
    # the busiest rows first; ties in a fixed order (the rows' order is not: hash aggregations)
    keys = ["succ", "fails", "n", "t_first", "source_ip", "user_name", "target"]
    ordered = rows.sort(keys, descending=[True, True, True, False, False, False, False])
    chosen: dict[str, Event] = {}
    for spec in (*_SAMPLES, _LAST):
        candidates = ordered.filter(pl.col(spec[0]).is_not_null()).head(limit)
        for row in candidates.iter_rows(named=True):
            if len(chosen) >= limit:
                break
            event = _event(row, *spec)
            chosen.setdefault(event.event_id, event)
    return tuple(sorted(chosen.values(), key=_event_order))


def _event_order(event: Event) -> tuple[float, str]:
    return (event.timestamp.timestamp() if event.timestamp else 0.0, event.event_id)


def _event(row: dict[str, Any], id_col: str, time_col: str, outcome: str | None) -> Event:
    target = row["target"]
    is_ip = _is_ip(target)
    return Event.model_validate(
        {
            "event_id": row[id_col],
            "@timestamp": row[time_col],
            "event.category": "authentication",
            "event.outcome": outcome,
            "event.action": "invalid_user" if row["inv"] and outcome != "success" else None,
            "source.ip": row["source_ip"],
            "user.name": row["user_name"],
            "destination.ip": target if is_ip else None,
            "host.name": None if is_ip else target,
        }
    )


def _is_ip(value: str | None) -> bool:
    if value is None:
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
