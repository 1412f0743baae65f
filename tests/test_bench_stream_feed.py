"""The stream benchmark feeds each family what its workers parse (benchmarks/bench_stream.py).

A benchmark that fed a family lines its parser rejects would measure dead letters, not the
job: every fed line must parse as an event of that family's key, except a CSV header.
"""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from siem_consensus.stream import get_family
from siem_consensus.stream._codec import RowParser

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_stream.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_stream", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _events(bench: ModuleType, family: str, lines: list[str]) -> list[dict[str, object]]:
    parser, entity = RowParser(bench.FORMATS[family]), get_family(family).entity
    parsed = [parser.parse(line.encode(), "t:0", n) for n, line in enumerate(lines)]
    assert [p.dead for p in parsed if p.dead] == []
    rows = [p.row for p in parsed if p.row is not None]
    assert all(entity(row) for row in rows)
    return rows


def test_firewall_feed_is_that_many_asa_lines(bench: ModuleType) -> None:
    lines = bench.feed("firewall", 300)
    assert len(lines) == 300 and len(_events(bench, "firewall", lines)) == 300


def test_ids_feed_is_the_header_and_the_first_alerts_of_the_file(
    bench: ModuleType, tmp_path: Path
) -> None:
    header = "time,name,ip,host,short,time_label,event_label"
    alerts = [
        f"{1643156730 + n},Wazuh: ClamAV database update,172.27.181.{n},mail,W-Sys-Cav,fp,-"
        for n in range(10)
    ]
    path = tmp_path / "alerts.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("\n".join([header, *alerts]) + "\n")
    lines = bench.feed("ids", 4, path)
    assert lines == [header, *alerts[:4]]
    assert len(_events(bench, "ids", lines)) == 4  # the header is no event


def test_ids_feed_of_a_missing_file_says_which(bench: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="nope.csv.gz: no such file"):
        bench.feed("ids", 4, tmp_path / "nope.csv.gz")


def test_insider_feed_is_ecs_in_log_time_order(bench: ModuleType) -> None:
    lines = bench.feed("insider", 2_000)
    rows = _events(bench, "insider", lines)
    assert len(rows) == 2_000
    times = [row["timestamp"] for row in rows]
    assert times == sorted(times)
    # the generator writes one file per kind of activity: in time order they interleave
    assert {"logon", "file", "web"} <= {row["event_category"] for row in rows}
