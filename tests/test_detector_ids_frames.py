"""Builders of IDS alert frames shared by the correlator tests (no parser involved).

Imported by the other ``test_detector_ids*`` modules; the tests at the end check the builders.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from siem_consensus.detectors.ids import IdsCorrelator, IdsThresholds
from siem_consensus.models import Incident
from siem_consensus.parsers.base import EVENT_SCHEMA

T0 = datetime(2026, 1, 18, 15, 0, tzinfo=UTC)
ATTACKER, VICTIM, C2 = "185.220.101.45", "10.1.50.25", "203.0.113.66"
Row = dict[str, Any]

STATS_KEYS = {
    "alerts", "distinct_signatures", "signatures", "stages", "stage_count", "tactics",
    "max_severity", "severity_counts", "sensors", "intel_hits", "asset_criticality", "flood",
    "narrative", "population",
}  # fmt: skip
POPULATION_KEYS = {
    "keys", "alerts_mean", "alerts_std", "signatures_mean", "signatures_std", "stages_mean",
    "stages_std",
}  # fmt: skip


def alert(
    seconds: float | None,
    src: str | None,
    dst: str | None,
    sig: str,
    *,
    sev: int | None = 3,
    cat: str = "Misc activity",
    dport: int | None = 80,
    sensor: str = "suricata-dmz",
    **extra: Any,
) -> Row:
    """One Suricata-like alert ``seconds`` after T0 (None: no timestamp)."""
    row: Row = {
        "timestamp": None if seconds is None else T0 + timedelta(seconds=seconds),
        "dataset": "suricata",
        "event_code": "alert",
        "source_ip": src,
        "source_port": 40000,
        "destination_ip": dst,
        "destination_port": dport,
        "network_transport": "tcp",
        "rule_name": sig,
        "rule_id": str(2_000_000 + zlib.crc32(sig.encode()) % 100_000),
        "rule_category": cat,
        "event_severity": sev,
        "observer_name": sensor,
    }
    row.update(extra)
    return row


def campaign(
    start: float = 0.0,
    attacker: str = ATTACKER,
    victim: str = VICTIM,
    c2: str = C2,
    outbound_sensor: str = "suricata-edge",
) -> list[Row]:
    """Scenario 2's nine alerts: scan x2, SQL injection x3, command injection, C2, exfil x2."""
    web = "Web Application Attack"
    inbound = [
        (0, "ET SCAN Nikto Web App Scan in Progress", 3, {}),
        (120, "ET SCAN Nikto Web App Scan in Progress", 3, {}),
        (300, "ET WEB_SERVER Possible SQL Injection Attempt (OR 1=1)", 2,
         {"url_original": "/p.php?id=1%27%20OR%20%271%27%3D%271"}),
        (420, "ET WEB_SERVER Possible SQL Injection Attempt (OR 1=1)", 2, {}),
        (540, "ET WEB_SERVER Possible SQL Injection Attempt (OR 1=1)", 2, {}),
        (720, "ET WEB_SERVER Possible Command Injection Attempt", 1,
         {"message": "GET /ping.php?host=1;/bin/bash -i"}),
    ]  # fmt: skip
    rows = [
        alert(start + t, attacker, victim, sig, sev=sev, cat=web, **x) for t, sig, sev, x in inbound
    ]
    rows.append(
        alert(
            start + 840,
            victim,
            c2,
            "ET POLICY Outbound Connection to Suspicious Non-Standard Port 4444",
            sev=2,
            dport=4444,
            sensor=outbound_sensor,
        )
    )
    for t in (960, 1140):
        rows.append(
            alert(
                start + t,
                victim,
                c2,
                "ET POLICY Large Outbound Data Transfer",
                sev=2,
                dport=443,
                sensor=outbound_sensor,
                source_bytes=300_000_000,
            )
        )
    return rows  # fmt: skip


def noise(rng: random.Random, scale: int = 1, start: float = -1800.0) -> list[Row]:
    """Low-severity background: two floods, spread scanning, a tail of rare signatures."""
    rows: list[Row] = []
    span = (start, start + 4800)
    for _ in range(600 * scale):
        host = f"10.1.{rng.randint(10, 40)}.{rng.randint(2, 250)}"
        rows.append(
            alert(
                rng.uniform(*span),
                host,
                "91.189.91.38",
                "ET POLICY GNU/Linux APT User-Agent Outbound",
                cat="Not Suspicious Traffic",
                sensor="core",
            )
        )
    for _ in range(300 * scale):
        rows.append(
            alert(
                rng.uniform(*span),
                f"10.1.20.{rng.randint(2, 250)}",
                "10.1.1.53",
                "ET INFO Observed DNS Query to .cloud TLD",
                dport=53,
                sensor="core",
            )
        )
    for _ in range(150 * scale):
        scanner = f"45.{rng.randint(1, 250)}.{rng.randint(1, 250)}.{rng.randint(1, 250)}"
        target = VICTIM if rng.random() < 0.1 else f"10.1.50.{rng.randint(30, 90)}"
        rows.append(
            alert(
                rng.uniform(*span),
                scanner,
                target,
                "ET SCAN Potential VNC Scan",
                dport=5900,
                sensor="suricata-edge",
            )
        )
    for k in range(10):
        for _ in range(rng.randint(2, 8)):
            rows.append(
                alert(
                    rng.uniform(*span),
                    f"10.1.30.{rng.randint(2, 250)}",
                    f"198.51.100.{rng.randint(1, 250)}",
                    f"ET INFO Rare thing {k}",
                )
            )
    return rows  # fmt: skip


def frame(*groups: Iterable[Row], source: str = "eve.json") -> pl.DataFrame:
    """Rows sorted by time and numbered 1.. like a parsed file."""
    rows = sorted(
        (r for g in groups for r in g), key=lambda r: (r["timestamp"] is None, r["timestamp"] or T0)
    )
    for number, row in enumerate(rows, start=1):
        row["line"] = number
    columns = {name: [r.get(name) for r in rows] for name in EVENT_SCHEMA}
    return pl.DataFrame(columns, schema=EVENT_SCHEMA).with_columns(pl.lit(source).alias("source"))


def correlate(
    df: pl.DataFrame, chunk: int | None = None, cfg: IdsThresholds | None = None, **kw: Any
) -> tuple[IdsCorrelator, list[Incident]]:
    """Run a fresh correlator over ``df`` in chunks of ``chunk`` rows."""
    detector = IdsCorrelator(cfg, **kw)
    step = chunk or max(df.height, 1)
    for offset in range(0, df.height, step):
        detector.update(df.slice(offset, step))
    return detector, detector.finish()


def members(
    detector: IdsCorrelator, df: pl.DataFrame, incidents: list[Incident]
) -> dict[str, set[int]]:
    """Incident id -> line numbers of its member alerts."""
    out: dict[str, set[int]] = {}
    for event_id, incident_id in detector.assign(df, incidents).iter_rows():
        out.setdefault(incident_id, set()).add(int(event_id.rsplit(":", 1)[1]))
    return out


def lines_of(df: pl.DataFrame, *addresses: str) -> set[int]:
    """Line numbers of the alerts whose source and destination are all among ``addresses``."""
    wanted = list(addresses)
    both = pl.col("source_ip").is_in(wanted) & pl.col("destination_ip").is_in(wanted)
    return set(df.filter(both)["line"].to_list())


def summary(incidents: list[Incident]) -> list[tuple[Any, ...]]:
    """What must not change with chunking."""
    return [
        (i.id, i.kind, i.severity, i.score, i.event_count, i.evidence_event_ids, i.stats,
         i.first_seen, i.last_seen)
        for i in incidents
    ]  # fmt: skip


def test_campaign_builder_has_scenario_2_shape() -> None:
    rows = campaign()
    assert len(rows) == 9
    assert sum(r["source_ip"] == ATTACKER for r in rows) == 6
    assert sum(r["destination_ip"] == C2 for r in rows) == 3


def test_frame_numbers_lines_in_time_order() -> None:
    df = frame(campaign(start=60), campaign(start=0))
    assert df["line"].to_list() == list(range(1, 19))
    assert df["timestamp"].is_sorted()
