"""Evidence sampling, severity statistics and ids shared by IDS incidents.

Evidence comes from the first and last alert kept for each partial row (one window, entity
pair, sensor, signature and rule). The sample favours coverage: first one alert per kill-chain
stage, then one per signature, then further first alerts (attack steps before the rest), then
last alerts, up to ``evidence_limit``; it is returned in time order.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import polars as pl

from ..models import Event
from ._ids_state import EV_COLS

__all__ = [
    "TACTIC_ORDER",
    "event_of",
    "incident_id",
    "ip_order",
    "is_ip",
    "pick_evidence",
    "severity_stats",
]

TACTIC_ORDER = (
    "Reconnaissance", "Resource Development", "Initial Access", "Execution", "Persistence",
    "Privilege Escalation", "Defense Evasion", "Stealth", "Defense Impairment",
    "Credential Access", "Discovery", "Lateral Movement", "Collection", "Command and Control",
    "Exfiltration", "Impact",
)  # fmt: skip
"""ATT&CK's order of tactics (enterprise matrix), used to sort tactic lists."""

_EVENT_FIELDS = {c: c for c in EV_COLS if c not in ("input", "line", "ts")}


def event_of(row: dict[str, Any], prefix: str) -> Event:
    """The alert stored under ``prefix`` (``f_`` or ``l_``) of a partial row, as an Event."""
    values = {field: row[prefix + column] for column, field in _EVENT_FIELDS.items()}
    sensor = row["sensor"]
    return Event(
        event_id=f"{row[prefix + 'input']}:{row[prefix + 'line']}",
        timestamp=row[prefix + "ts"],
        rule_name=row["sig"],
        observer_name=sensor if sensor != values.get("dataset") else None,
        **values,
    )


def pick_evidence(rows: pl.DataFrame, stages: Sequence[str | None], limit: int) -> list[Event]:
    """Up to ``limit`` evidence events covering every stage and signature first.

    Args:
        rows: Partial rows of one incident (with ``step`` and ``rule``).
        stages: Kill-chain stage of each row, aligned with ``rows`` (None when unmapped).
        limit: Maximum number of events.
    """
    ordered = rows.with_columns(pl.Series("_stage", list(stages), dtype=pl.String)).sort(
        pl.col("step").not_(), "t_first", "f_input", "f_line", nulls_last=True
    )
    records = list(ordered.iter_rows(named=True))
    chosen: dict[str, Event] = {}

    def take(candidates: Iterable[dict[str, Any]], prefix: str, key: str | None) -> None:
        seen: set[Any] = set()
        for row in candidates:
            if len(chosen) >= limit:
                return
            if key is not None and (row[key] is None or row[key] in seen):
                continue
            seen.add(row[key] if key else None)
            event = event_of(row, prefix)
            chosen.setdefault(event.event_id, event)

    take(records, "f_", "_stage")
    take(records, "f_", "sig")
    take(records, "f_", None)
    take(records, "l_", None)
    return sorted(chosen.values(), key=_event_order)


def _event_order(event: Event) -> tuple[float, str]:
    return (event.timestamp.timestamp() if event.timestamp else float("inf"), event.event_id)


def severity_stats(levels: Sequence[int]) -> tuple[int | None, dict[str, int]]:
    """``max_severity`` (1-4 or None) and ``severity_counts`` from counts ``lv0..lv4``."""
    counts = {str(k): int(levels[k]) for k in (4, 3, 2, 1)}
    counts["unknown"] = int(levels[0])
    highest = next((k for k in (4, 3, 2, 1) if levels[k] > 0), None)
    return highest, counts


def incident_id(kind: str, parts: Iterable[str], first_seen: datetime | None) -> str:
    """Stable ``ids-`` id from the kind, the identifying parts and the first timestamp."""
    when = first_seen.isoformat() if first_seen else "untimed"
    digest = hashlib.sha256(f"{kind}|{'|'.join(parts)}|{when}".encode())
    return "ids-" + digest.hexdigest()[:16]


def is_ip(value: str) -> bool:
    """True when ``value`` is an IP address (entities may also be host names)."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def ip_order(value: str) -> tuple[int, int, str]:
    """Sort key: IPv4 then IPv6 numerically, then names."""
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return (9, 0, value)
    return (ip.version, int(ip), value)
