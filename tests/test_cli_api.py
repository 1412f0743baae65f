"""API traps turned into clear errors, and example 1 with the caller's analysts."""

from __future__ import annotations

import pytest

from siem_consensus import analyze_auth, analyze_firewall, example_1
from siem_consensus.detectors.auth import AuthThresholds
from siem_consensus.detectors.firewall import FirewallThresholds
from siem_consensus.errors import ConfigError
from siem_consensus.generators.firewall import scenario_1
from siem_consensus.models import Verdict


class Nameless:
    async def analyze(self, case: object) -> Verdict:  # pragma: no cover - never called
        raise AssertionError


def test_an_analyst_without_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="Nameless has no name.*docs/extending.md"):
        analyze_firewall(scenario_1(seed=7), analysts=["rules", Nameless()])


def test_example_1_takes_analysts(capsys: pytest.CaptureFixture[str]) -> None:
    report = example_1(analysts="rules")
    assert report.analysts == ("rules",)
    out = capsys.readouterr().out
    assert "Example 1" in out and "Side by side" not in out  # one analyst: nothing to compare
    report = example_1(quiet=True)
    assert report.analysts == ("rules", "baseline")


def test_two_analysts_side_by_side_in_table_and_markdown() -> None:
    from siem_consensus.render import render_markdown, render_table

    report = example_1(quiet=True)
    rules, baseline = report.decisions[0].verdicts
    table, markdown = render_table(report), render_markdown(report)
    assert "Side by side (each analyst judged alone):" in table
    assert "| aspect | rules | baseline |" in markdown
    # the whole rationale is there, not cut mid-word
    assert f"| Why | {rules.rationale} | {baseline.rationale} |" in markdown
    assert rules.rationale.split()[-1] in table


def test_thresholds_reach_the_detector() -> None:
    """Each entry point builds its detector with the thresholds given (None: the defaults)."""
    scan = [
        f"Mar 14 14:00:{port % 60:02d} gw kernel: [1.0] IN=eth0 OUT= SRC=203.0.113.9 "
        f"DST=10.0.0.5 LEN=60 PROTO=TCP SPT=40000 DPT={port} SYN"
        for port in range(1, 41)
    ]
    quiet = FirewallThresholds(port_scan_ports=100, slow_scan_ports=100)
    assert analyze_firewall(scan, input_format="iptables").incidents
    assert not analyze_firewall(scan, input_format="iptables", thresholds=quiet).incidents

    guesses = [
        f"Mar 14 14:00:{second:02d} bastion sshd[1]: Failed password for root from "
        f"203.0.113.9 port {40000 + second} ssh2"
        for second in range(30)
    ]
    lenient = AuthThresholds(brute_force_failures=100)
    assert analyze_auth(guesses, input_format="openssh").incidents
    assert not analyze_auth(guesses, input_format="openssh", thresholds=lenient).incidents
