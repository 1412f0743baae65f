"""The auth detector's evidence sample does not depend on the order of its state rows (they come
out of hash aggregations, whose order changes from run to run)."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from siem_consensus.detectors.auth._incidents import _evidence


def _rows(n: int) -> pl.DataFrame:
    """State rows that tie on every count (the evidence limit must choose among them)."""
    t = datetime(2026, 3, 14, tzinfo=UTC)
    return pl.DataFrame(
        {
            "succ": [0] * n,
            "fails": [3] * n,
            "n": [3] * n,
            "t_first": [t] * n,
            "source_ip": [f"203.0.113.{i}" for i in range(n)],
            "user_name": ["root"] * n,
            "target": ["srv01"] * n,
            "inv": [0] * n,
            "e_fs": [None] * n,
            "t_fs": [None] * n,
            "e_ff": [f"auth.log:{i}" for i in range(n)],
            "t_ff": [t] * n,
            "e_inv": [None] * n,
            "e_lf": [f"auth.log:{100 + i}" for i in range(n)],
            "t_lf": [t] * n,
        },
        schema_overrides={"e_fs": pl.String, "t_fs": pl.Datetime("us", "UTC")},
    )


def test_evidence_does_not_depend_on_row_order() -> None:
    rows = _rows(40)
    chosen = [e.event_id for e in _evidence(rows, 5)]
    assert len(chosen) == 5
    assert [e.event_id for e in _evidence(rows.reverse(), 5)] == chosen
    assert [e.event_id for e in _evidence(rows.sample(fraction=1.0, shuffle=True, seed=3), 5)] == (
        chosen
    )
