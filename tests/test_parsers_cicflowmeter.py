"""CICFlowMeter CSV parser: header-driven columns across CICFlowMeter versions."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from siem_consensus.parsers.base import LineError
from siem_consensus.parsers.cicflowmeter import CicFlowMeterParser, _time
from siem_consensus.sources import EventStream

DATA = Path(__file__).parent / "data" / "parsers"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "cicids2017"


def _parse(path: Path) -> tuple[dict[int, dict[str, Any]], EventStream]:
    stream = EventStream([path])
    rows = {row["line"]: row for _, frame in stream for row in frame.iter_rows(named=True)}
    return rows, stream


def test_2017_layout() -> None:
    rows, stream = _parse(DATA / "cicflowmeter_2017.csv")
    stats = stream.stats
    assert (stats.lines, stats.events, stats.dead_letters, stats.skipped_lines) == (12, 6, 3, 3)
    row = rows[2]
    assert row["timestamp"] == datetime(2017, 7, 7, 3, 30, tzinfo=UTC)
    assert (row["source_ip"], row["source_port"]) == ("172.16.0.1", 40112)
    assert (row["destination_ip"], row["destination_port"]) == ("192.168.10.50", 1723)
    assert (row["network_transport"], row["event_action"]) == ("tcp", "flow")
    assert (rows[4]["source_bytes"], rows[4]["destination_bytes"]) == (66, 130)
    assert rows[6]["timestamp"] == datetime(2017, 7, 5, 19, 55, 50, tzinfo=UTC)
    assert rows[7]["network_transport"] == "icmp"
    reasons = {d.line: d.reason for d in stream.dead_letters}
    assert reasons == {
        9: "CICFlowMeter row truncated: 54 fields, header has 85",
        10: "Dst IP is not an IP address: '192.168.10.500'",
        11: "invalid CICFlowMeter timestamp '13/13/2017 9:20'",
    }


def test_v4_layout() -> None:
    rows, stream = _parse(DATA / "cicflowmeter_v4.csv")
    assert (stream.stats.events, stream.stats.skipped_lines) == (9, 1)
    assert rows[2]["timestamp"] == datetime(2017, 7, 7, 17, 51, 49, 250001, UTC)
    assert (rows[4]["source_bytes"], rows[4]["network_transport"]) == (66, "udp")
    assert rows[6]["source_ip"] == "fe80::1"
    assert (rows[8]["timestamp"], rows[8]["network_transport"]) == (
        datetime(2017, 7, 3, 11, 0, 5, 500000, UTC),
        "icmp",
    )


def test_label_is_not_in_the_event() -> None:
    rows, _ = _parse(DATA / "cicflowmeter_v4.csv")
    assert all("Portscan" not in str(value) for value in rows[2].values())
    assert "label" not in {name.lower() for name in rows[2]}


def test_row_before_header_is_a_dead_letter() -> None:
    parsed = CicFlowMeterParser().parse_chunk(["1,2,3"], 1, "x")
    assert parsed.dead_letters[0].reason.startswith("CICFlowMeter row before any header row")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2017-07-07 17:51:49.618008", datetime(2017, 7, 7, 17, 51, 49, 618008, UTC)),
        ("7/7/2017 5:51", datetime(2017, 7, 7, 5, 51, tzinfo=UTC)),
        ("7/7/2017 05:51:49", datetime(2017, 7, 7, 5, 51, 49, tzinfo=UTC)),
        ("07/05/2017 07:55:50 PM", datetime(2017, 7, 5, 19, 55, 50, tzinfo=UTC)),
        ("7/5/2017 12:05:00 AM", datetime(2017, 7, 5, 0, 5, tzinfo=UTC)),
        ("14/02/2018 08:31:01", datetime(2018, 2, 14, 8, 31, 1, tzinfo=UTC)),
    ],
)
def test_timestamp_formats(text: str, expected: datetime) -> None:
    assert _time(text) == expected


def test_invalid_timestamp() -> None:
    with pytest.raises(LineError, match="invalid CICFlowMeter timestamp"):
        _time("yesterday")


@pytest.mark.slow
@pytest.mark.skipif(not SHARED.is_dir(), reason="CIC-IDS2017 sample not available")
def test_real_cicids2017_samples_parse_completely() -> None:
    for path in sorted(SHARED.glob("*.csv.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            lines = [line.rstrip("\r\n") for line in fh]
        stream = EventStream([lines], input_format="cicflowmeter")
        frames = [frame for _, frame in stream]
        assert stream.stats.dead_letters == 0, (path.name, stream.dead_letters[:3])
        assert stream.stats.events == len(lines) - 1
        assert all(frame["timestamp"].null_count() == 0 for frame in frames)
