"""Which alerts of a batch belong to which IDS incident (vectorised second pass).

A campaign or single-stage incident claims an alert when every endpoint of the alert (``a``
and, when present, ``b``, as in :func:`~._ids_state.endpoints`) is one of its
``member_entities`` and one of them was active in the alert's window
(``stats["active_windows"]``: ``window_s`` and ``[entity, first window, last window]`` runs,
windows numbered ``epoch seconds // window_s``). That is exactly how the correlator counted
``event_count``. An ``alert_flood`` incident claims the alerts of its signature in
``[first_seen, last_seen]`` that no other incident claimed. An alert belongs to at most one
incident: the first in the given order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from ...models import Incident
from ._state import endpoints, is_alert, signature

__all__ = ["assign_members"]

_TIME = pl.Datetime("us", "UTC")
_OUT = ("event_id", "incident_id", "order")


def assign_members(batch: pl.DataFrame, incidents: Sequence[Incident]) -> pl.DataFrame:
    """Rows ``event_id, incident_id`` (see the module docstring)."""
    empty = pl.DataFrame(schema={"event_id": pl.String, "incident_id": pl.String})
    if batch.is_empty() or not incidents:
        return empty
    a, b = endpoints()
    alerts = (
        batch.lazy()
        .filter(is_alert())
        .select(
            pl.format("{}:{}", "source", "line").alias("event_id"),
            pl.col("timestamp").alias("ts"),
            a,
            b,
            signature(),
        )
    )
    claims = [_grouped(alerts, window_s, spec) for window_s, spec in _group_specs(incidents)]
    grouped = pl.concat(claims) if claims else pl.LazyFrame(schema=_schema())
    floods = _flood_spec(incidents)
    in_time = (
        pl.col("ts")
        .is_between(pl.col("first_seen"), pl.col("last_seen"))
        .fill_null(pl.col("ts").is_null() & pl.col("first_seen").is_null())
    )
    flooded = (
        alerts.join(floods.lazy(), on="sig")
        .filter(in_time)
        .join(grouped.select("event_id"), on="event_id", how="anti")
        .select(_OUT)
    )
    return (
        pl.concat([grouped.select(_OUT), flooded])
        .sort("order")
        .unique("event_id", keep="first", maintain_order=True)
        .select("event_id", "incident_id")
        .collect()
    )


def _grouped(alerts: pl.LazyFrame, window_s: int, spec: pl.DataFrame) -> pl.LazyFrame:
    """Claims of campaign/single-stage incidents sharing one window length."""
    slotted = alerts.with_columns((pl.col("ts").dt.epoch("s") // window_s).alias("slot"))
    active = spec.lazy().select("incident_id", "order", "e", "slot")
    members = (
        spec.lazy().select("incident_id", "e").unique().with_columns(pl.lit(True).alias("_member"))
    )
    via_a = slotted.join(active, left_on=["a", "slot"], right_on=["e", "slot"], nulls_equal=True)
    via_a = via_a.join(
        members, left_on=["incident_id", "b"], right_on=["incident_id", "e"], how="left"
    ).filter(pl.col("b").is_null() | pl.col("_member").is_not_null())
    via_b = slotted.filter(pl.col("b").is_not_null()).join(
        active, left_on=["b", "slot"], right_on=["e", "slot"], nulls_equal=True
    )
    via_b = via_b.join(
        members, left_on=["incident_id", "a"], right_on=["incident_id", "e"], how="semi"
    )
    return pl.concat([via_a.select(_OUT), via_b.select(_OUT)])


def _group_specs(incidents: Sequence[Incident]) -> list[tuple[int, pl.DataFrame]]:
    """Per window length: rows ``incident_id, order, e, slot`` of the active windows."""
    rows: dict[int, list[dict[str, Any]]] = {}
    for order, incident in enumerate(incidents):
        spec = incident.stats.get("active_windows")
        if incident.kind == "alert_flood" or not spec:
            continue
        mine = rows.setdefault(int(spec["window_s"]), [])
        for entity, first, last in spec["runs"]:
            slots = [None] if first is None else range(int(first), int(last) + 1)
            mine += [
                {"incident_id": incident.id, "order": order, "e": entity, "slot": slot}
                for slot in slots
            ]
    schema: dict[str, pl.DataType] = {
        "incident_id": pl.String(),
        "order": pl.Int64(),
        "e": pl.String(),
        "slot": pl.Int64(),
    }
    return [(w, pl.DataFrame(r, schema=schema)) for w, r in sorted(rows.items())]


def _flood_spec(incidents: Sequence[Incident]) -> pl.DataFrame:
    rows = [
        {
            "incident_id": i.id,
            "order": order,
            "first_seen": i.first_seen,
            "last_seen": i.last_seen,
            "sig": i.stats["signatures"][0][0],
        }
        for order, i in enumerate(incidents)
        if i.kind == "alert_flood"
    ]
    schema: dict[str, pl.DataType] = {
        "incident_id": pl.String(),
        "order": pl.Int64(),
        "first_seen": _TIME,
        "last_seen": _TIME,
        "sig": pl.String(),
    }
    return pl.DataFrame(rows, schema=schema)


def _schema() -> dict[str, pl.DataType]:
    return {"event_id": pl.String(), "incident_id": pl.String(), "order": pl.Int64()}
