"""``build_firewall_graph`` and ``build_auth_graph``: each runs its own family's detector, with
the thresholds, policy and threshold it is given (both are fronts over one builder)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from siem_consensus import TriageContext, build_auth_graph, build_firewall_graph
from siem_consensus.detectors.auth import AuthThresholds
from siem_consensus.detectors.firewall import FirewallThresholds
from siem_consensus.generators.auth import scenario_4
from siem_consensus.generators.firewall import scenario_1


@pytest.fixture(scope="module")
def logs() -> dict[str, list[str]]:
    return {"asa": scenario_1(seed=7), "sshd": scenario_4(seed=7)}


def _run(graph: Any, lines: list[str]) -> dict[str, Any]:
    context = TriageContext(inline_sources=[lines])
    final: dict[str, Any] = asyncio.run(graph.ainvoke({"input_format": None}, context=context))
    return final


def _kinds(final: dict[str, Any]) -> set[str]:
    return {incident["kind"] for incident in final["incidents"]}


def test_each_builder_runs_its_own_detector(logs: dict[str, list[str]]) -> None:
    assert _kinds(_run(build_firewall_graph(), logs["asa"])) == {"port_scan"}
    assert _kinds(_run(build_auth_graph(), logs["sshd"])) == {
        "success_after_failures",
        "password_spraying",
        "background_guessing",
    }
    # the other family's log gives the other detector nothing to find
    assert _kinds(_run(build_firewall_graph(), logs["sshd"])) == set()
    assert _kinds(_run(build_auth_graph(), logs["asa"])) == set()


def test_thresholds_reach_the_detector(logs: dict[str, list[str]]) -> None:
    wide = build_firewall_graph(thresholds=FirewallThresholds(port_scan_ports=1000))
    assert "port_scan" not in _kinds(_run(wide, logs["asa"]))
    strict = AuthThresholds(spray_min_accounts=10**6, distributed_min_sources=10**6)
    assert "password_spraying" not in _kinds(
        _run(build_auth_graph(thresholds=strict), logs["sshd"])
    )


@pytest.mark.parametrize("build", [build_firewall_graph, build_auth_graph])
def test_policy_threshold_and_analysts_reach_the_vote(
    build: Any, logs: dict[str, list[str]]
) -> None:
    lines = logs["asa"] if build is build_firewall_graph else logs["sshd"]
    final = _run(build(policy="majority", threshold=0.55, analysts="rules"), lines)
    assert final["decisions"]
    for decision in final["decisions"]:
        assert (decision["policy"], decision["threshold"]) == ("majority", 0.55)
        assert [v["analyst"] for v in decision["verdicts"]] == ["rules"]
