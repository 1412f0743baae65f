"""Contract between the auth detector and the embedded analysts: any value of any statistic.

Real incidents of every auth kind come from the SSH day of scenario 4 (with and without
internet background pooled). Each ``Incident.stats`` key the detector documents, each key of
its ``rule`` (``observed``, ``threshold``) and of its ``population`` is then removed or
replaced by ``None``, zero, a negative, a huge number, NaN, infinity, a string, a bool, a list
or a mapping; both embedded analysts must still return ``ok`` or ``abstained`` (an analyst that
raises is an outage: a degraded ``needs_review`` on every incident). The rules once raised on
``rule.observed`` of ``None``, a non-numeric string or a negative threshold.
"""

from __future__ import annotations

import asyncio
import functools
import re
from typing import Any

import pytest

from siem_consensus.analysts import BaselineAnalyst, RulesAnalyst, run_analyst
from siem_consensus.detectors import auth
from siem_consensus.detectors.auth import AuthDetector, AuthThresholds
from siem_consensus.detectors.auth._rules import KINDS as AUTH_KINDS
from siem_consensus.detectors.base import detect_stream
from siem_consensus.generators.auth import scenario_4
from siem_consensus.models import Incident, Verdict, VerdictStatus
from siem_consensus.sources import EventStream
from tests.test_contract_stats import MISSING
from tests.test_contract_stats import ODD_VALUES as CONTRACT_ODD_VALUES

# the contract test's odd values, and minus infinity (a log10 of a negative threshold)
ODD_VALUES: list[Any] = [*CONTRACT_ODD_VALUES, float("-inf")]
KINDS = set(AUTH_KINDS)


@functools.cache
def incidents() -> tuple[Incident, ...]:
    """One real incident per auth kind (scenario 4, background pooled and not)."""
    found: dict[str, Incident] = {}
    for pool in (True, False):
        detector = AuthDetector(AuthThresholds(pool_background=pool))
        stream = EventStream([scenario_4(7)], input_format="openssh")
        for incident in detect_stream(iter(stream), detector):
            found.setdefault(incident.kind, incident)
    return tuple(found.values())


def documented_keys() -> set[str]:
    doc = auth.__doc__ or ""
    return set(re.findall(r"``([a-z][a-z0-9_]*)``", doc[doc.index("``Incident.stats`` keys") :]))


def _with(incident: Incident, key: str, value: Any, inside: str | None = None) -> Incident:
    stats = dict(incident.stats)
    target = stats
    if inside is not None:
        target = dict(stats.get(inside) or {})
        stats[inside] = target
    if value is MISSING:
        target.pop(key, None)
    else:
        target[key] = value
    return incident.model_copy(update={"stats": stats})


def _failures(cases: list[Incident]) -> list[str]:
    async def run() -> list[Verdict]:
        analysts = (RulesAnalyst(), BaselineAnalyst())
        return [await run_analyst(a, case) for case in cases for a in analysts]

    usable = (VerdictStatus.OK, VerdictStatus.ABSTAINED)
    return [
        f"{v.analyst} on {v.incident_id}: {v.status.value} {v.error}"
        for v in asyncio.run(run())
        if v.status not in usable
    ]


def test_scenario_4_gives_every_auth_kind() -> None:
    assert {i.kind for i in incidents()} == KINDS
    assert _failures(list(incidents())) == []


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_documented_auth_statistic_with_any_value(kind: str) -> None:
    [case] = [i for i in incidents() if i.kind == kind]
    keys = sorted(documented_keys())
    assert {"failures", "rule", "targeted", "population"} <= set(keys)
    variants = [_with(case, key, value) for key in keys for value in ODD_VALUES]
    for inside in ("rule", "population"):
        for key in sorted(case.stats[inside]):
            variants += [_with(case, key, value, inside) for value in ODD_VALUES]
    assert _failures(variants) == []


def test_odd_rule_figures_are_read_as_no_breadth() -> None:
    """A rule the rules cannot read adds nothing to the confidence; it never raises."""
    [sprayed] = [i for i in incidents() if i.kind == "password_spraying"]
    case = _with(sprayed, "successes", 0)  # targeted guessing, no login yet: 0.75 + breadth
    rules = RulesAnalyst()
    plain = _with(case, "rule", {})
    expected = asyncio.run(rules.analyze(plain))
    assert expected.is_threat is True and expected.confidence == 0.75
    breadth = 0.204  # log10(8 / 5): 8 accounts sprayed, rule of 5
    assert asyncio.run(rules.analyze(case)).confidence == pytest.approx(
        0.75 + 0.15 * breadth, abs=1e-3
    )
    for rule in ({"observed": None}, {"observed": "many", "threshold": 5}, "8 of 5"):
        verdict = asyncio.run(rules.analyze(_with(case, "rule", rule)))
        assert (verdict.status, verdict.confidence) == (VerdictStatus.OK, 0.75), rule
