"""What the authentication rules say: the breadth of an attack beyond its rule, the confidence
of targeted guessing and of internet background, a success after failures, and the reasons;
worked out by hand from ``siem_consensus/analysts/_rules_auth.py``.

The guessing rules' judges are built by ``_guessing(label)`` when the module is imported;
the tests build one the same way, so that a broken builder is seen (a judge taken from
``AUTH_RULES`` was built before any test ran).
"""

from __future__ import annotations

from typing import Any

import pytest

from siem_consensus.analysts._rules_auth import _guessing
from siem_consensus.analysts.rules import KIND_RULES


def _judge(kind: str, **stats: Any) -> tuple[bool, float, list[str]]:
    return KIND_RULES[kind].judge(stats)


def _guess(**stats: Any) -> tuple[bool, float, list[str]]:
    return _guessing("password spraying")(stats)


@pytest.mark.parametrize(
    ("rule", "targeted", "background"),
    [
        ({"observed": 20, "threshold": 10}, 0.795, 0.79),  # breadth log10(2) = 0.301
        ({"observed": 100, "threshold": 10}, 0.9, 0.65),  # breadth 1
        ({"observed": 10_000, "threshold": 10}, 0.9, 0.65),  # breadth capped at 1
        ({"observed": 10, "threshold": 0}, 0.9, 0.65),  # threshold 0 counts as 1
        ({"observed": 2}, 0.795, 0.79),  # no threshold: 1, breadth log10(2)
        ({"observed": 2, "threshold": -4}, 0.795, 0.79),  # a negative threshold counts as 1
        ({"observed": 10, "threshold": 10}, 0.75, 0.85),  # at its rule: breadth 0
        ({"observed": 1, "threshold": 0.5}, 0.795, 0.79),  # a fraction is a threshold too
        ({"threshold": 0.5}, 0.75, 0.85),  # nothing observed: breadth 0 whatever the threshold
        ({"observed": 5, "threshold": 10}, 0.75, 0.85),  # under its rule: breadth 0
        ({}, 0.75, 0.85),
    ],
)
def test_guessing_confidence_follows_the_breadth_beyond_the_rule(
    rule: dict[str, Any], targeted: float, background: float
) -> None:
    assert _guess(targeted=True, rule=rule, failures=7)[:2] == (
        True,
        pytest.approx(targeted, abs=1e-3),
    )
    assert _guess(rule=rule)[:2] == (False, pytest.approx(background, abs=1e-3))


def test_guessing_reasons_and_a_success() -> None:
    stats = {
        "failures": 40,
        "internal_source": True,
        "specific_accounts": ["root", "admin", "bob", "eve", "joe", "sam"],
        "background": True,
    }
    context = [
        "an internal source is guessing passwords",
        "existing site accounts targeted: root, admin, bob, eve, joe",
        "external sources, only common or non-existent account names, no success",
    ]
    assert _guess(**stats) == (
        False,
        0.85,
        ["password spraying: 40 failed attempts", *context, "internet background"],
    )
    assert _guess(**stats, successes=1, targeted=True) == (
        True,
        0.9,
        ["password spraying: 40 failed attempts", *context, "a login succeeded"],
    )
    assert _guess(targeted=True)[2] == ["password spraying: 0 failed attempts"]


def test_background_guessing_is_noise_with_its_figures() -> None:
    assert _judge("background_guessing", distinct_sources=12, failures=300) == (
        False,
        0.85,
        [
            "12 external sources, 300 failures, only common or non-existent names",
            "no login succeeded: internet background noise of an exposed service",
        ],
    )
    assert _judge("background_guessing")[2][0].startswith("0 external sources, 0 failures")


@pytest.mark.parametrize(
    ("stats", "confidence"),
    [
        ({"failures": 30}, 0.85),
        ({"failures": 30, "targeted": True}, 0.9),
        ({"rule": {"observed": 100, "threshold": 10}, "targeted": True}, 0.95),
    ],
)
def test_a_success_after_failures_is_a_threat(stats: dict[str, Any], confidence: float) -> None:
    threat, conf, why = _judge("success_after_failures", **stats)
    assert (threat, conf) == (True, pytest.approx(confidence))
    failures = stats.get("rule", {}).get("observed", stats.get("failures"))
    assert why[0] == f"a successful login after {failures} failures"
    assert why[-1] == "the guessed credential may be in use"


def test_a_success_without_a_failure_count_reports_zero_failures() -> None:
    assert _judge("success_after_failures")[2][0] == "a successful login after 0 failures"
    why = _judge("success_after_failures", rule={"threshold": 5}, failures=12)[2]
    assert why[0] == "a successful login after 12 failures"  # the rule observed nothing
