"""Beaconing on the Stratosphere malware captures (real Zeek logs in ../shared/data)."""

from __future__ import annotations

import pytest

from siem_consensus.evaluation.stratosphere import DEFAULT_DATA, evaluate

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not DEFAULT_DATA.is_dir(), reason="Stratosphere captures not available"),
]


def test_stratosphere_c2_channels_and_decisions() -> None:
    results = {r["capture"]: r for r in evaluate(DEFAULT_DATA)}
    njrat = results["001-zeek-scenario-malicious"]
    assert njrat["dead_letters"] == 0
    assert [c["found"] for c in njrat["channels"]] == [True]  # 237 callbacks to 1177/tcp
    assert njrat["decisions"]["dismissed"] == 0
    assert all(r["analyst_errors"] == 0 for r in results.values())
    assert all(r["false_positive_incidents"] == 0 for r in results.values())
    # the Android RAT's 1337/tcp sessions are long and irregular: not a beacon (documented miss)
    assert [c["found"] for c in results["003-zeek-scenario-malicious"]["channels"]] == [False]
