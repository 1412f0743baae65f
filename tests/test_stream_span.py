"""A maximum session span: a source that never falls silent is still decided (stream/_families.py).

Without a broker: segment keys, span validation and what the detector finds in the segments of
a scanner that never pauses, against the batch detector. With a broker (one worker process):
``test_stream_span_worker.py``.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from siem_consensus import analyze_firewall
from siem_consensus.errors import ConfigError
from siem_consensus.generators.firewall import asa_deny
from siem_consensus.stream import StreamSettings, detect_session, get_family
from siem_consensus.stream._codec import RowParser, event_time_ms
from siem_consensus.stream._families import check_span, segment_key

START = datetime(2026, 1, 18, 0, 30, tzinfo=UTC)
SCANNER = "203.0.113.7"
DAY_MS = 86_400_000


def scanner_lines(hours: int, start: datetime = START) -> list[str]:
    """A port scan of one host, one probe a minute, that never pauses for ``hours``."""
    out = []
    for i in range(hours * 60):
        ts = start + timedelta(minutes=i)
        src = ("outside", SCANNER, 40000 + i % 20000)
        out.append(asa_deny(ts, "tcp", src, ("inside", "10.1.50.10", 1 + i * 7 % 1000), "x"))
    return out


def _rows(lines: list[str]) -> list[dict[str, Any]]:
    parser = RowParser("asa")
    rows = [parser.parse(line.encode(), "asa:0", n).row for n, line in enumerate(lines)]
    return [row for row in rows if row is not None]


def _segments(rows: list[dict[str, Any]], span_s: int | None) -> dict[str, list[dict[str, Any]]]:
    """Rows grouped by session key as the ingest stage keys them."""
    fw = get_family("firewall")
    out: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        entity = fw.entity(row)
        ts = event_time_ms(row)
        assert entity is not None and ts is not None
        out[segment_key(entity, ts, span_s)].append(row)
    return dict(out)


def test_segments_are_cut_at_multiples_of_the_span_from_the_epoch() -> None:
    cut = 20_472 * DAY_MS  # 2026-01-19T00:00:00Z
    assert segment_key("10.0.0.1", cut - 1, 86_400) == "10.0.0.1#20471"
    assert segment_key("10.0.0.1", cut, 86_400) == "10.0.0.1#20472"
    assert segment_key("10.0.0.1", cut, None) == "10.0.0.1"  # no span: the entity alone


def test_default_spans_and_their_checks() -> None:
    fw, ids, insider = (get_family(n) for n in ("firewall", "ids", "insider"))
    # A day: the firewall's long horizon (the longest bucket it aligns to the epoch), and
    # the IDS foothold horizon; insider baselines are a user's whole history: no cut.
    assert (fw.span_s, ids.span_s, insider.span_s) == (86_400, 86_400, None)
    assert check_span(fw, None) == 86_400 and check_span(fw, 0) is None
    assert check_span(fw, 2 * 86_400) == 2 * 86_400
    assert check_span(ids, 7_200) == 7_200  # IDS windows are an hour
    with pytest.raises(ConfigError, match="multiple of 86400 s"):
        check_span(fw, 86_400 + 3_600)  # would cut a long-horizon bucket in two
    with pytest.raises(ConfigError, match="multiple of 3600 s"):
        check_span(ids, 5_400)
    with pytest.raises(ConfigError, match="multiple"):
        StreamSettings("firewall", "127.0.0.1:9", "t", max_session_span_s=-86_400)
    assert StreamSettings("insider", "127.0.0.1:9", "t", max_session_span_s=86_400).span_s == 86_400


def test_a_scan_across_the_cut_is_neither_lost_nor_found_twice() -> None:
    lines = scanner_lines(30)  # 00:30 on day one to 06:30 on day two: one cut, at midnight
    [batch] = analyze_firewall(lines, input_format="asa", analysts="rules").incidents
    assert batch.stats["events"] == len(lines)  # batch: one chain of 30 windows
    fw = get_family("firewall")
    segments = _segments(_rows(lines), fw.span_s)
    assert sorted(segments) == [f"{SCANNER}#20471", f"{SCANNER}#20472"]
    found = [i for key in sorted(segments) for i in detect_session(fw, segments[key])]
    # Each segment reports its part of the chain; together they hold every event once.
    assert [i["stats"]["events"] for i in found] == [1410, 390]
    assert found[0]["id"] == batch.id  # the part before the cut keeps the batch's id
    assert found[0]["last_seen"] == "2026-01-18T23:59:00Z"
    assert found[1]["first_seen"] == "2026-01-19T00:00:00Z"  # the rest: its own id
    assert found[1]["id"] != batch.id
    # Deterministic: any arrival order (another worker, a redelivery) gives the same ids.
    rows = _rows(lines)
    random.Random(3).shuffle(rows)
    again = _segments([*rows, *rows[:100]], fw.span_s)
    assert [i["id"] for key in sorted(again) for i in detect_session(fw, again[key])] == [
        i["id"] for i in found
    ]


def test_without_a_span_the_never_silent_source_is_one_session() -> None:
    segments = _segments(_rows(scanner_lines(30)), None)
    assert list(segments) == [SCANNER]
