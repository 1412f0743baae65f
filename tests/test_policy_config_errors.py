"""The configuration errors of the consensus policies, read whole: a user reads them to fix a
setting, so each must say exactly what is wrong (``pytest.raises(match=)`` alone searches a
substring, so these compare the complete message)."""

from __future__ import annotations

import pytest

from siem_consensus.consensus import MajorityPolicy, UnanimousPolicy, WeightedPolicy, get_policy
from siem_consensus.errors import ConfigError


def _message(info: pytest.ExceptionInfo[ConfigError]) -> str:
    return str(info.value)


@pytest.mark.parametrize("weight", [float("nan"), float("inf"), -0.5])
def test_a_weight_that_is_not_a_finite_number_of_at_least_zero_is_refused(weight: float) -> None:
    with pytest.raises(ConfigError) as info:
        WeightedPolicy(0.8, weights={"rules": 1.0, "baseline": weight})
    assert _message(info) == "weights must be finite numbers >= 0"


def test_a_threshold_outside_zero_to_one_is_refused_with_the_value() -> None:
    with pytest.raises(ConfigError) as info:
        UnanimousPolicy(1.5)
    assert _message(info) == "threshold must be between 0 and 1, got 1.5"


def test_a_quorum_below_one_is_refused_with_the_value() -> None:
    with pytest.raises(ConfigError) as info:
        MajorityPolicy(0.8, quorum=0)
    assert _message(info) == "quorum must be >= 1, got 0"


def test_a_quorum_larger_than_the_analysts_says_what_would_work() -> None:
    with pytest.raises(ConfigError) as info:
        MajorityPolicy(0.8, quorum=3).check_analysts(["rules", "baseline"])
    assert _message(info) == (
        "quorum 3 can never be reached with 2 analysts (rules, baseline); use a quorum of at most 2"
    )


def test_weights_of_only_zero_are_refused() -> None:
    with pytest.raises(ConfigError) as info:
        WeightedPolicy(0.8, weights={"rules": 0, "baseline": 0}).check_analysts(
            ["rules", "baseline"]
        )
    assert _message(info) == "every configured analyst has weight 0: nothing could decide"


def test_an_unknown_policy_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as info:
        get_policy("consensus")
    assert _message(info) == (
        "unknown policy 'consensus'; valid policies are: majority, unanimous, weighted"
    )
    assert isinstance(get_policy("quorum", 0.6), MajorityPolicy)
    assert get_policy("quorum", 0.6).threshold == 0.6


def test_a_policy_named_without_a_threshold_uses_0_8() -> None:
    for name in ("unanimous", "majority", "quorum", "weighted"):
        assert get_policy(name).threshold == 0.8
