"""Seeded ASA generators: deterministic, time-ordered, parseable, with the documented content."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path

import polars as pl

from siem_consensus.generators.firewall import (
    DEFAULT_NOW,
    SCAN_PORTS,
    SCAN_TARGET,
    SCANNER,
    bulk_asa_lines,
    scenario_1,
    write_bulk,
    write_scenario_1,
)
from siem_consensus.sources import EventStream

_DENY = re.compile(
    r"^[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} firewall %ASA-4-106023: Deny "
    r"(?:tcp|udp) src (?:inside|outside):[0-9.]+/[0-9]+ dst (?:inside|outside):[0-9.]+/[0-9]+ "
    r'by access-group "[a-z_]+" \[0x0, 0x0\]$'
)


def _parse(lines: list[str]) -> tuple[pl.DataFrame, EventStream]:
    stream = EventStream([lines], input_format="asa")
    frames = [batch for _, batch in stream]
    return pl.concat(frames), stream


def test_scenario_1_is_deterministic_per_seed() -> None:
    assert scenario_1(7) == scenario_1(7)
    assert scenario_1(7) != scenario_1(8)
    later = DEFAULT_NOW + timedelta(days=1)
    assert scenario_1(7, now=later)[0].startswith("Jan 19 ")


def test_scenario_1_lines_are_asa_denies_sorted_by_time() -> None:
    lines = scenario_1()
    assert all(_DENY.match(line) for line in lines)
    events, stream = _parse(lines)
    assert stream.stats.dead_letters == 0 and events.height == len(lines)
    assert events["timestamp"].is_sorted()


def test_scenario_1_content_matches_the_book() -> None:
    events, _ = _parse(scenario_1())
    scan = events.filter(pl.col("source_ip") == SCANNER)
    assert scan.height == 195
    assert set(scan["destination_ip"]) == {SCAN_TARGET}
    counts = scan.group_by("destination_port").len()
    assert sorted(counts["destination_port"]) == sorted(SCAN_PORTS)
    assert set(counts["len"]) == {15}
    start, end = scan["timestamp"].min(), scan["timestamp"].max()
    assert isinstance(start, datetime) and isinstance(end, datetime)
    assert (
        timedelta(0)
        <= start.replace(year=2026) - (DEFAULT_NOW - timedelta(hours=2))
        <= timedelta(seconds=2)
    )
    assert timedelta(minutes=28) <= end - start <= timedelta(minutes=30)
    dns = events.filter(pl.col("source_ip") == "10.1.20.50")
    assert 150 <= dns.height <= 200
    assert set(dns["rule_name"]) == {"no_external_dns"} and set(dns["destination_port"]) == {53}
    noise = events.filter(~pl.col("source_ip").is_in([SCANNER, "10.1.20.50"]))
    assert 1000 <= noise.height <= 1002
    assert set(noise["destination_port"]) <= {22, 23, 445, 3389}
    per_source = noise.group_by("source_ip").len()["len"]
    assert per_source.max() == 2
    assert noise["destination_ip"].str.starts_with("10.1.").all()


def test_write_scenario_1(tmp_path: Path) -> None:
    path = tmp_path / "s1.log"
    count = write_scenario_1(path, seed=7)
    assert path.read_text(encoding="utf-8").splitlines() == scenario_1(7)
    assert count == len(scenario_1(7))


def test_bulk_is_deterministic_time_ordered_and_parseable() -> None:
    lines = list(bulk_asa_lines(20_000, seed=3))
    assert len(lines) == 20_000
    assert lines == list(bulk_asa_lines(20_000, seed=3))
    assert lines[:100] == list(islice(bulk_asa_lines(10**9, seed=3), 100))
    events, stream = _parse(lines)
    assert stream.stats.dead_letters == 0 and events.height == 20_000
    assert events["timestamp"].is_sorted()
    actions = set(events["event_action"])
    assert actions == {"allow", "teardown", "deny"}
    first, last = events["timestamp"].min(), events["timestamp"].max()
    assert isinstance(first, datetime) and isinstance(last, datetime)
    assert timedelta(minutes=4) < last - first < timedelta(minutes=10)


def test_bulk_starts_where_asked(tmp_path: Path) -> None:
    start = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    assert next(bulk_asa_lines(1, seed=1, start=start)).startswith("Mar  1 08:00:")
    path = tmp_path / "bulk.log"
    assert write_bulk(path, 500, seed=2) == 500
    assert path.read_text(encoding="utf-8").splitlines() == list(bulk_asa_lines(500, seed=2))
