"""The IDS correlator streams: chunking and early window closing never change the incidents."""

from __future__ import annotations

import random

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_detector_ids_frames import (
    ATTACKER,
    VICTIM,
    alert,
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
        campaign(start=2 * DAY),  # beyond foothold_horizon_s: a campaign of its own
        noise(rng, scale=2),
        noise(rng, start=2 * DAY - 1800),
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
    # the same victim attacked again 3 h after its foothold: one campaign (foothold_horizon_s)
    assert len(detector.finish()) == 1
    again = IdsCorrelator(EAGER.model_copy(update={"foothold_horizon_s": 0}))
    again.update(frame(campaign(start=DAY)))
    again.update(frame(campaign(start=DAY + 3 * 3600)))
    assert len(again.finish()) == 2


def _tied_flood() -> pl.DataFrame:
    """A flood whose partial rows tie on count and first time: 30 sources, 5 alerts each, the
    k-th alert of every source in the same second."""
    rows = [
        alert(60.0 * k, f"10.1.70.{i}", "10.1.1.53", "ET INFO Tied background noise", sensor="c")
        for k in range(5)
        for i in range(30)
    ]
    return frame(rows)


@pytest.mark.parametrize("chunk", [None, 7, 45, 149])
def test_flood_evidence_does_not_depend_on_row_order(chunk: int | None) -> None:
    incidents = correlate(_tied_flood(), chunk=chunk)[1]
    assert [i.kind for i in incidents] == ["alert_flood"]
    # Ties break on the first alert (input, line): the first five sources' first alerts.
    assert incidents[0].evidence_event_ids == tuple(f"eve.json:{n}" for n in range(1, 6))
    top = incidents[0].stats["top_pairs"]
    assert [pair[0] for pair in top[:5]] == [f"10.1.70.{i}" for i in range(5)]


def _one_signature_many_categories() -> pl.DataFrame:
    """One signature under two categories, and a rule id written as a name: rows that meet
    in one partial row once their rule is known."""
    nikto = "ET SCAN Nikto Web App Scan in Progress"
    rows = [
        alert(30.0 * k, ATTACKER, VICTIM, nikto, cat=("Web Application Attack", "Scan")[k % 2])
        for k in range(12)
    ]
    rows += [alert(30.0 * k + 1, ATTACKER, VICTIM, "rule 2001", cat="Misc") for k in range(3)]
    rows += [
        alert(30.0 * k + 2, ATTACKER, VICTIM, "-", cat="Misc", rule_name=None, rule_id="2001")
        for k in range(3)
    ]
    return frame(rows, noise(random.Random(5)))


_MEETING = _one_signature_many_categories()
_MEETING_REFERENCE = summary(correlate(_MEETING, chunk=13)[1])


@pytest.mark.parametrize("chunk", [50, None])
def test_partial_rows_that_meet_on_their_rule_merge_exactly(chunk: int | None) -> None:
    incidents = correlate(_MEETING, chunk=chunk)[1]
    assert summary(incidents) == _MEETING_REFERENCE
    group = next(i for i in incidents if i.kind != "alert_flood")
    signatures = dict(map(tuple, group.stats["signatures"]))
    assert signatures["ET SCAN Nikto Web App Scan in Progress"] == 12
    assert signatures["rule 2001"] == 6
