"""Streaming equivalence: any batching and file order give the same insider incidents."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_detector_insider_data import company, directory, frame, scenario_3, usb_theft

from siem_consensus.detectors.base import detect_stream
from siem_consensus.detectors.insider import InsiderDetector, InsiderThresholds
from siem_consensus.detectors.insider._state import PartialStore

USERS = ["bob.engineer", "alice.dev", "carol.dev", "dan.sales", "erin.sales"]
DATA = frame(company(users=USERS) + scenario_3() + usb_theft())
LEFT = directory(left=["erin.sales"])


def _dump(detector: InsiderDetector) -> list[dict[str, Any]]:
    return [i.model_dump() for i in detector.finish()]


def _whole() -> list[dict[str, Any]]:
    detector = InsiderDetector(directory=LEFT)
    detector.update(DATA)
    return _dump(detector)


REFERENCE = _whole()


def test_reference_finds_both_insiders() -> None:
    assert sorted(i["entities"]["users"][0] for i in REFERENCE) == ["bob.engineer", "erin.sales"]


@settings(max_examples=20)
@given(
    cuts=st.lists(st.integers(1, DATA.height - 1), max_size=12, unique=True),
    compact_every=st.integers(1, 5),
    reverse=st.booleans(),
)
def test_any_chunking_gives_the_same_incidents(
    cuts: list[int], compact_every: int, reverse: bool
) -> None:
    bounds = [0, *sorted(cuts), DATA.height]
    chunks = [DATA.slice(a, b - a) for a, b in zip(bounds, bounds[1:], strict=False)]
    if reverse:  # files in another order: later batches hold earlier days
        chunks.reverse()
    detector = InsiderDetector(InsiderThresholds(), directory=LEFT)
    detector._store = PartialStore(detector.thresholds.evidence_per_tag, compact_every)
    for chunk in chunks:
        detector.update(chunk)
    assert _dump(detector) == REFERENCE


def test_per_kind_files_through_detect_stream() -> None:
    """CERT comes as one file per event type: logons first, then files, then web, then mail."""
    parts = [
        (str(kind), DATA.filter(pl.col("event_category") == kind))
        for kind in ("logon", "device", "file", "web", "email")
    ]
    detector = InsiderDetector(directory=LEFT)
    incidents = detect_stream(iter(parts), detector)
    assert [i.model_dump() for i in incidents] == REFERENCE


@pytest.mark.parametrize("size", [1_000, 4_096])
def test_fixed_batch_sizes(size: int) -> None:
    detector = InsiderDetector(directory=LEFT)
    for start in range(0, DATA.height, size):
        detector.update(DATA.slice(start, size))
    assert _dump(detector) == REFERENCE
