"""Beaconing: unanswered callbacks are beacons, a firewall's refusals are not."""

from __future__ import annotations

import random

import pytest

from tests.test_detector_firewall import detect, ev, frame


def callbacks(action: str, n: int = 40, every: float = 12.0) -> list[dict[str, object]]:
    rng = random.Random(1)
    return [
        ev(i * every + rng.uniform(-1, 1), "192.168.1.115", "41.108.179.197", 1177,
           event_action=action)
        for i in range(n)
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("action", "beacon"),
    [("allow", True), ("no_reply", True), ("deny", False), ("drop", False)],
)
def test_unanswered_callbacks_are_beacons_refused_ones_are_not(action: str, beacon: bool) -> None:
    incidents = detect(frame(callbacks(action)))[1]
    assert [i.kind for i in incidents] == (["beaconing"] if beacon else [])


def test_a_refused_share_over_the_limit_is_not_a_beacon() -> None:
    rows = callbacks("no_reply")
    for row in rows[::2]:
        row["event_action"] = "deny"  # half refused, half unanswered: 50% <= 0.5 still beacons
    assert [i.kind for i in detect(frame(rows))[1]] == ["beaconing"]
    for row in rows[1::4]:
        row["event_action"] = "deny"  # 75% refused
    assert detect(frame(rows))[1] == []
