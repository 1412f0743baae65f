"""Evidence sampling, severity statistics and ids shared by IDS incidents.

Evidence comes from the first and last alert kept for each partial row (one window, entity
pair, sensor, signature and rule). The sample favours coverage: first one alert per kill-chain
stage, then one per signature, then further first alerts (attack steps before the rest), then
last alerts, up to ``evidence_limit``; it is returned in time order.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import polars as pl

from ...models import Event
from ._state import EV_COLS

__all__ = [
    "TACTIC_ORDER",
    "event_of",
    "incident_id",
    "ip_order",
    "is_ip",
    "nulls_last",
    "pick_evidence",
    "records",
    "row_order",
    "severity_stats",
]

TACTIC_ORDER = (
    "Reconnaissance", "Resource Development", "Initial Access", "Execution", "Persistence",
    "Privilege Escalation", "Defense Evasion", "Stealth", "Defense Impairment",
    "Credential Access", "Discovery", "Lateral Movement", "Collection", "Command and Control",
    "Exfiltration", "Impact",
)  # fmt: skip
"""ATT&CK's order of tactics (enterprise matrix), used to sort tactic lists."""

_EVENT_FIELDS = tuple(c for c in EV_COLS if c not in ("input", "line", "ts"))
_STORED = {p: tuple((p + c, c) for c in _EVENT_FIELDS) for p in ("f_", "l_")}


def event_of(row: dict[str, Any], prefix: str) -> Event:
    """The alert stored under ``prefix`` (``f_`` or ``l_``) of a partial row, as an Event."""
    values = {field: row[column] for column, field in _STORED[prefix]}
    sensor = row["sensor"]
    return Event(
        event_id=f"{row[prefix + 'input']}:{row[prefix + 'line']}",
        timestamp=row[prefix + "ts"],
        rule_name=row["sig"],
        observer_name=sensor if sensor != values.get("dataset") else None,
        **values,
    )


def records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as dicts (column by column: faster than ``iter_rows``)."""
    columns = frame.columns
    values = (series.to_list() for series in frame.get_columns())
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


def pick_evidence(
    rows: Sequence[dict[str, Any]], stages: Sequence[str | None], limit: int
) -> list[Event]:
    """Up to ``limit`` evidence events covering every stage and signature first.

    Args:
        rows: Partial rows of one incident (with ``step`` and ``rule``), as dicts.
        stages: Kill-chain stage of each row, aligned with ``rows`` (None when unmapped).
        limit: Maximum number of events.
    """
    ordered = sorted(zip(rows, stages, strict=True), key=lambda pair: row_order(pair[0]))
    chosen: dict[str, Event] = {}

    def take(prefix: str, key: Callable[[dict[str, Any], str | None], Any] | None) -> None:
        seen: set[Any] = set()
        for row, stage in ordered:
            if len(chosen) >= limit:
                return
            if key is not None:
                value = key(row, stage)
                if value is None or value in seen:
                    continue
                seen.add(value)
            event_id = f"{row[prefix + 'input']}:{row[prefix + 'line']}"
            if event_id not in chosen:
                chosen[event_id] = event_of(row, prefix)

    take("f_", lambda _, stage: stage)
    take("f_", lambda row, _: row["sig"])
    take("f_", None)
    take("l_", None)
    return sorted(chosen.values(), key=_event_order)


def row_order(row: dict[str, Any]) -> tuple[Any, ...]:
    """Sort key of partial rows: attack steps first, then by their first alert (time, input,
    line), missing values last."""
    return (not row["step"], *(nulls_last(row[c]) for c in ("t_first", "f_input", "f_line")))


def nulls_last(value: Any) -> tuple[bool, Any]:
    """Sort key placing None after every value (values of one type compare as usual)."""
    return (value is None, value)


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
