"""Closed sessions detected together give, session by session, what a detector per session
gives (``stream._screen``): the same incidents and the same population share.

The reference is :func:`detect_and_measure`, one fresh batch detector per session, which
``test_stream_population.py`` ties to the batch population and ``test_stream.py`` to the
batch decisions. Sessions here are generated ASA traffic with scans, brute forces and a
sweep (``test_stream.dataset``), one session per source, and the same again with every
source's events split into two sessions (two rounds of the screen).
"""

from __future__ import annotations

from typing import Any

import pytest
from stream_helpers import dataset

from siem_consensus.stream import _detect, get_family
from siem_consensus.stream._codec import RowParser
from siem_consensus.stream._detect import detect_and_measure, detect_sessions


def _sessions(lines: list[str], *, split: bool, short: int = 300) -> list[list[dict[str, Any]]]:
    """One session per source (two with ``split``): every one of 10 events or more (they may
    fire) and the first ``short`` shorter ones (population only)."""
    parser = RowParser("asa")
    by_source: dict[str, list[dict[str, Any]]] = {}
    for n, line in enumerate(lines):
        row = parser.parse(line.encode(), "asa:0", n).row
        if row is not None and row.get("source_ip"):
            by_source.setdefault(row["source_ip"], []).append(row)
    chosen = [rows for rows in by_source.values() if len(rows) >= 10]
    chosen += [rows for rows in by_source.values() if len(rows) < 10][:short]
    if not split:
        return chosen
    halves = [rows[: len(rows) // 2] for rows in chosen if len(rows) > 1]
    return [*halves, *(rows[len(rows) // 2 :] for rows in chosen)]


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return dataset(12_000, seed=5)


@pytest.mark.parametrize("split", [False, True])
def test_sessions_detected_together_equal_each_session_alone(lines: list[str], split: bool) -> None:
    family = get_family("firewall")
    sessions = _sessions(lines, split=split)
    alone = [detect_and_measure(family, rows, population=True) for rows in sessions]
    assert sum(len(incidents) for incidents, _ in alone) >= 5, "no incident to compare"
    quiet = [rows for rows, (found, _) in zip(sessions, alone, strict=True) if not found]
    assert sum(1 for rows in quiet if len(rows) >= family.min_events) > (5 if split else 50)
    assert detect_sessions(family, sessions, population=True) == alone
    without = [(incidents, None) for incidents, _share in alone]
    assert detect_sessions(family, sessions, population=False) == without


def test_only_sessions_with_a_finding_get_their_own_detector(
    lines: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    family = get_family("firewall")
    sessions = _sessions(lines, split=False)
    calls: list[int] = []
    alone = _detect.detect_and_measure

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return alone(*args, **kwargs)

    monkeypatch.setattr(_detect, "detect_and_measure", counted)
    found = detect_sessions(family, sessions, population=True)
    firing = sum(1 for incidents, _ in found if incidents)
    long_sessions = sum(1 for rows in sessions if len(rows) >= family.min_events)
    assert firing <= len(calls) < long_sessions / 2, (firing, len(calls), long_sessions)
