"""The IDS correlator streams: chunking and early window closing never change the incidents."""

from __future__ import annotations

import random

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_detector_ids_frames import (
    campaign,
    correlate,
    frame,
    noise,
    summary,
)

from siem_consensus.detectors.ids import IdsCorrelator, IdsThresholds

DAY = 86_400.0
EAGER = IdsThresholds(max_open_rows=0)
"""Closes windows as soon as the lateness horizon passes: exercises flushing on small inputs."""


def _mixed() -> pl.DataFrame:
    rng = random.Random(11)
    other = campaign(start=3 * 3600, attacker="198.51.100.77", victim="10.1.60.9")
    return frame(
        campaign(),
        other,
        campaign(start=DAY),
        noise(rng, scale=2),
        noise(rng, start=DAY - 1800),
    )


_MIXED = _mixed()
_REFERENCE = summary(correlate(_MIXED)[1])


def test_reference_has_every_kind_of_group() -> None:
    kinds = sorted(row[1] for row in _REFERENCE)
    assert kinds.count("campaign") == 3
    assert "alert_flood" in kinds


@pytest.mark.parametrize("cfg", [EAGER, IdsThresholds()], ids=["eager", "default"])
@pytest.mark.parametrize("chunk", [97, 1000])
def test_chunk_size_and_early_closing_do_not_change_the_result(
    cfg: IdsThresholds, chunk: int
) -> None:
    detector, incidents = correlate(_MIXED, chunk=chunk, cfg=cfg)
    assert summary(incidents) == _REFERENCE
    assert detector.counters["late"] == 0


@settings(max_examples=10, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=4000), max_size=6))
def test_any_chunking_gives_the_same_incidents(cuts: list[int]) -> None:
    df = _MIXED
    detector = IdsCorrelator(EAGER)
    bounds = [0, *sorted(set(cuts)), df.height]
    for start, end in zip(bounds, bounds[1:], strict=False):
        detector.update(df.slice(start, max(end - start, 0)))
    assert summary(detector.finish()) == _REFERENCE


def test_state_stays_bounded_when_windows_close() -> None:
    rng = random.Random(12)
    hours = [noise(rng, start=h * 3600.0) for h in range(12)]
    df = frame(*hours, campaign(start=6 * 3600.0))
    bounded = IdsCorrelator(IdsThresholds(max_open_rows=500))
    peak = 0
    for offset in range(0, df.height, 500):
        bounded.update(df.slice(offset, 500))
        peak = max(peak, bounded._store.rows)
    assert peak < df.height / 4
    assert summary(bounded.finish()) == summary(correlate(df)[1])


def test_alerts_behind_closed_windows_are_counted_late() -> None:
    detector = IdsCorrelator(EAGER)
    detector.update(frame(campaign(start=DAY)))
    detector.update(frame(campaign(start=DAY + 3 * 3600)))
    detector.update(frame(campaign()))
    assert detector.counters["late"] == 9
    assert len(detector.finish()) == 2
