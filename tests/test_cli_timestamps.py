"""Time stamps: datetime objects, epoch seconds vs milliseconds by size, ``--timezone``."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import run_main

from siem_consensus.sources import EventStream

ASA = (
    "Jan 18 2026 14:30:00 fw1 : %ASA-4-106023: Deny tcp src outside:203.0.113.5/4444 "
    'dst inside:10.0.0.5/22 by access-group "outside_in"'
)
WHEN = datetime(2026, 1, 18, 14, 30, tzinfo=UTC)


def _times(source: Any, **kw: Any) -> list[datetime]:
    stream = EventStream([source], **kw)
    times: list[datetime] = []
    for _, batch in stream:
        times += batch["timestamp"].to_list()
    assert stream.stats.dead_letters == 0, stream.dead_letters
    return times


def test_datetime_objects_are_accepted() -> None:
    naive = {"@timestamp": datetime(2026, 1, 18, 14, 30), "source.ip": "10.0.0.1"}
    aware = {
        "@timestamp": datetime(2026, 1, 18, 15, 30, tzinfo=_zone("Europe/Vienna")),
        "source.ip": "10.0.0.1",
    }
    assert _times([naive, aware]) == [WHEN, WHEN]


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


@pytest.mark.parametrize(
    "value",
    [1768746600, 1768746600.0, "1768746600", 1768746600000, 1768746600000000, 1768746600000000000],
    ids=["s", "s-float", "s-digits", "ms", "us", "ns"],
)
def test_epoch_unit_by_magnitude(value: object) -> None:
    assert _times([{"@timestamp": value, "source.ip": "10.0.0.1"}]) == [WHEN]


def test_epoch_boundary_between_seconds_and_milliseconds() -> None:
    # 10^11 - 1 is still seconds (year 5138); 10^11 is milliseconds (1973)
    below, at = _times([{"@timestamp": v, "source.ip": "10.0.0.1"} for v in (10**11 - 1, 10**11)])
    assert below.year == 5138 and at.year == 1973


def test_ambiguous_epoch_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    from siem_consensus.parsers import _epoch

    _epoch._warned.discard("@timestamp")
    with caplog.at_level(logging.WARNING, logger="siem_consensus.parsers"):
        [when] = _times([{"@timestamp": 86400, "source.ip": "10.0.0.1"}])
    assert when == datetime(1970, 1, 2, tzinfo=UTC)
    assert "ambiguous" in caplog.text


def test_timezone_for_zone_less_syslog_and_iso() -> None:
    assert _times([ASA], input_format="asa") == [WHEN]
    assert _times([ASA], input_format="asa", timezone="Europe/Vienna") == [
        datetime(2026, 1, 18, 13, 30, tzinfo=UTC)
    ]
    naive = [{"@timestamp": "2026-01-18T14:30:00", "source.ip": "10.0.0.1"}]
    zoned = [{"@timestamp": "2026-01-18T14:30:00Z", "source.ip": "10.0.0.1"}]
    assert _times(naive, timezone="America/New_York") == [datetime(2026, 1, 18, 19, 30, tzinfo=UTC)]
    assert _times(zoned, timezone="America/New_York") == [WHEN]  # a zone wins


def test_timezone_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from siem_consensus.generators.firewall import scenario_1

    (tmp_path / "fw.log").write_text("\n".join(scenario_1(seed=7)) + "\n")

    def first_seen(*extra: str) -> datetime:
        args = ["firewall", "fw.log", "--format", "json", *extra]
        done = run_main(args, tmp_path, monkeypatch, capsys)
        assert done.returncode == 0, done.stderr
        [incident] = json.loads(done.stdout)["incidents"]
        return datetime.fromisoformat(incident["first_seen"])

    utc, tokyo = first_seen(), first_seen("--timezone", "Asia/Tokyo")
    assert utc - tokyo == timedelta(hours=9)
    bad = run_main(
        ["firewall", "fw.log", "--timezone", "Nowhere/Land"], tmp_path, monkeypatch, capsys
    )
    assert bad.returncode == 2 and "IANA" in bad.stderr
