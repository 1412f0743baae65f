"""Contract between the detectors and the embedded analysts: every documented statistic, any value.

Real incidents come from each detector (firewall, IDS with and without sensor severities,
insider). Each documented ``Incident.stats`` key (read from the detector's module docstring)
is then removed or replaced by ``None``, zero, a negative, a huge number, NaN, infinity, a
string, a bool, a list or a mapping, and both embedded analysts must still return ``ok`` or
``abstained``: an embedded analyst that raises is an outage (a degraded ``needs_review`` on
every incident), as the ``int(None)`` crash on AIT-ADS once was.
"""

from __future__ import annotations

import asyncio
import functools
import random
import re
import tempfile
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siem_consensus.analysts import BaselineAnalyst, RulesAnalyst, run_analyst
from siem_consensus.analysts._rules_firewall import FIREWALL_RULES
from siem_consensus.analysts.rules import KIND_RULES
from siem_consensus.detectors import firewall, ids, insider
from siem_consensus.detectors.base import Detector, detect_stream
from siem_consensus.generators.dns import dga_dns, dns_log
from siem_consensus.generators.firewall import asa_deny, scenario_1
from siem_consensus.generators.ids import scenario_2
from siem_consensus.generators.insider import (
    generate_cert_shapes_dataset,
    generate_insider_dataset,
)
from siem_consensus.models import Incident, Verdict, VerdictStatus
from siem_consensus.parsers.cert import cert_inputs, read_ldap
from siem_consensus.sources import EventStream

DETECTOR_MODULES: dict[str, ModuleType] = {"firewall": firewall, "ids": ids, "insider": insider}
USABLE = (VerdictStatus.OK, VerdictStatus.ABSTAINED)
MISSING = object()
ODD_VALUES: list[Any] = [
    MISSING,
    None,
    0,
    -1,
    10**30,
    1e308,
    float("inf"),
    float("nan"),
    "",
    "12",
    "not a number",
    True,
    [],
    [None, "x", 3],
    {"a": None},
]
T0 = datetime(2026, 3, 2, 9, 0, 0)


def documented_keys(module: ModuleType) -> set[str]:
    """The ``Incident.stats`` keys a detector's module docstring documents."""
    doc = module.__doc__ or ""
    section = doc[doc.index("``Incident.stats`` keys") :]
    return set(re.findall(r"``([a-z][a-z0-9_]*)``", section))


def _firewall_lines() -> list[str]:
    """Scenario 1 (a port scan) plus a sweep, an SSH brute force, a slow scan of an exposed host
    (the long horizon's internet scan) and a regular beacon."""
    lines = scenario_1(7, now=T0 + timedelta(hours=3))
    for n in range(40):  # sweep: one source, 40 hosts, one port
        src, dst = ("outside", "198.51.100.7", 40000 + n), ("inside", f"10.1.60.{n + 1}", 445)
        lines.append(asa_deny(T0 + timedelta(seconds=5 * n), "tcp", src, dst, "outside_in"))
    for n in range(120):  # brute force: 120 attempts on one SSH server
        src, dst = ("outside", "203.0.113.9", 30000 + n), ("inside", "10.1.50.22", 22)
        lines.append(asa_deny(T0 + timedelta(seconds=20 * n), "tcp", src, dst, "outside_in"))
    for n in range(30):  # internet background: one probe of an exposed host every 20 min
        src, dst = ("outside", "198.51.100.44", 41000 + n), ("inside", "10.1.50.10", 1000 + n)
        lines.append(asa_deny(T0 + timedelta(seconds=1200 * n), "tcp", src, dst, "outside_in"))
    for n in range(30):  # beacon: an internal host calls out every 60 s, allowed
        ts = T0 + timedelta(seconds=60 * n)
        lines.append(
            f"{ts:%b} {ts.day:2d} {ts:%H:%M:%S} firewall %ASA-6-302013: Built outbound TCP "
            f"connection {9000 + n} for outside:192.0.2.77/8081 (192.0.2.77/8081) to "
            f"inside:10.1.70.5/{50000 + n} (10.1.70.5/{50000 + n})"
        )
    return lines


def _dns_lines() -> list[str]:
    """DGA-like DNS of the beaconing host (supporting evidence) and of another host (a dga)."""
    rng = random.Random(7)
    rows = dga_dns(rng, T0, "10.1.70.5", 40) + dga_dns(rng, T0, "10.1.70.9", 40)
    return dns_log(rows)


def _ait_lines() -> list[str]:
    """AIT-ADS alerts carry no severity: a scan-and-exploit campaign, login failures, a flood."""
    t = 1_700_000_000
    rows = ["time,name,ip,host,short,time_label,event_label"]
    rows += [f"{t + 20 * k},Wazuh: Dovecot Authentication Success.,10.0.0.9,mail,W,x,-"
             for k in range(150)]  # fmt: skip
    rows += [f"{t + 600 + k},Wazuh: Multiple web server 400 error codes from same source ip.,"
             "10.0.0.5,web,W,x,-" for k in range(5)]  # fmt: skip
    rows += [f"{t + 900},Wazuh: Successful sudo to ROOT executed.,10.0.0.5,web,W,x,-"]
    rows += [f"{t + 1000 + 60 * k},Wazuh: Dovecot Invalid User Login Attempt.,10.0.0.9,mail,W,x,-"
             for k in range(8)]  # fmt: skip
    return rows


def _run(detector: Detector, sources: list[Any], input_format: str | None = None) -> list[Incident]:
    return detect_stream(iter(EventStream(sources, input_format=input_format)), detector)


@functools.cache
def pool() -> dict[str, tuple[Incident, ...]]:
    """Real incidents of every detector (built once per test session)."""
    fw = _run(firewall.FirewallDetector(), [_firewall_lines(), _dns_lines()])
    suricata = _run(ids.IdsCorrelator(), [scenario_2(7)], "suricata")
    ait = _run(ids.IdsCorrelator(), [_ait_lines()], "ait-ads")
    with tempfile.TemporaryDirectory(prefix="contract-insider-") as tmp:
        generate_insider_dataset(tmp, 3, users=20, days=40)
        inputs = cert_inputs(Path(tmp))
        directory = read_ldap(inputs.ldap) if inputs.ldap else None
        ins = _run(insider.InsiderDetector(directory=directory), list(inputs.event_files))
    with tempfile.TemporaryDirectory(prefix="contract-cert-shapes-") as tmp:
        generate_cert_shapes_dataset(tmp, 3, users=60, days=100, per_scenario=1)
        inputs = cert_inputs(Path(tmp))
        directory = read_ldap(inputs.ldap) if inputs.ldap else None
        shapes = _run(insider.InsiderDetector(directory=directory), list(inputs.event_files))
    # the CERT shapes first: one incident per kind is taken from them where they have it
    return {"firewall": tuple(fw), "ids": (*suricata, *ait), "insider": (*shapes, *ins)}


def _one_per_kind(detector: str) -> list[Incident]:
    kinds: dict[str, Incident] = {}
    for incident in pool()[detector]:
        kinds.setdefault(incident.kind, incident)
    return list(kinds.values())


def _judge_all(cases: list[Incident]) -> list[Verdict]:
    async def run() -> list[Verdict]:
        analysts = (RulesAnalyst(), BaselineAnalyst())
        return [await run_analyst(a, case) for case in cases for a in analysts]

    return asyncio.run(run())


def _with(incident: Incident, key: str, value: Any, population: bool = False) -> Incident:
    stats = dict(incident.stats)
    target: dict[str, Any] = stats
    if population:
        target = dict(stats.get("population") or {})
        stats["population"] = target
    if value is MISSING:
        target.pop(key, None)
    else:
        target[key] = value
    return incident.model_copy(update={"stats": stats})


def _failures(verdicts: list[Verdict]) -> list[str]:
    return [f"{v.analyst} on {v.incident_id}: {v.status.value} {v.error}" for v in verdicts
            if v.status not in USABLE]  # fmt: skip


def test_every_detector_gives_real_incidents_of_several_kinds() -> None:
    kinds = {name: {i.kind for i in incidents} for name, incidents in pool().items()}
    assert set(FIREWALL_RULES) <= kinds["firewall"]  # every kind the rules judge
    assert any("dga" in i.stats for i in pool()["firewall"] if i.kind == "beaconing")
    assert {"campaign", "alert_flood"} <= kinds["ids"]
    assert len(kinds["insider"]) >= 2
    features = {f for i in pool()["insider"] for f in i.stats["features"]}
    assert {"after_hours_first", "leak_site", "foreign_mail", "mass_email"} <= features
    severities = {i.stats.get("max_severity") for i in pool()["ids"]}
    assert None in severities and len(severities) > 1  # AIT-ADS (none) and Suricata (1-4)


@pytest.mark.parametrize("detector", sorted(DETECTOR_MODULES))
def test_real_incidents_get_a_rules_judgement(detector: str) -> None:
    verdicts = _judge_all(list(pool()[detector]))
    assert _failures(verdicts) == []
    rules = [v for v in verdicts if v.analyst == "rules"]
    assert rules and all(v.status is VerdictStatus.OK for v in rules)


@pytest.mark.parametrize("detector", sorted(DETECTOR_MODULES))
def test_every_documented_statistic_with_any_value(detector: str) -> None:
    cases = _one_per_kind(detector)
    keys = sorted(documented_keys(DETECTOR_MODULES[detector]))
    assert len(keys) >= 10, "the detector's docstring lists its stats keys"
    variants = [_with(case, key, value) for case in cases for key in keys for value in ODD_VALUES]
    population_keys = sorted({k for c in cases for k in c.stats.get("population") or {}})
    variants += [
        _with(case, key, value, population=True)
        for case in cases
        for key in population_keys
        for value in ODD_VALUES
    ]
    assert _failures(_judge_all(variants)) == []


def test_the_ait_ads_crash_is_caught() -> None:
    """The shape that crashed ``rules``: IDS statistics whose ``max_severity`` is None."""
    ait = [i for i in pool()["ids"] if i.stats.get("max_severity") is None]
    assert ait
    verdicts = _judge_all(ait)
    assert _failures(verdicts) == []
    assert any(v.is_threat for v in verdicts if v.analyst == "rules")


_ODD = st.one_of(
    st.sampled_from(ODD_VALUES),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.lists(st.one_of(st.none(), st.integers(), st.text(max_size=3)), max_size=3),
)


@st.composite
def mangled_incidents(draw: st.DrawFn) -> Incident:
    """A real incident of any detector with several statistics removed or replaced."""
    detector = draw(st.sampled_from(sorted(DETECTOR_MODULES)))
    incident = draw(st.sampled_from(pool()[detector]))
    keys = sorted(documented_keys(DETECTOR_MODULES[detector]) | set(incident.stats))
    for key in draw(st.lists(st.sampled_from(keys), min_size=1, max_size=8, unique=True)):
        incident = _with(incident, key, draw(_ODD))
    population = incident.stats.get("population")
    if isinstance(population, Mapping) and population and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(population)))
        incident = _with(incident, key, draw(_ODD), population=True)
    return incident


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled_incidents())
def test_embedded_analysts_never_error_on_mangled_statistics(incident: Incident) -> None:
    verdicts = _judge_all([incident])
    assert _failures(verdicts) == []
    for verdict in verdicts:
        if verdict.status is VerdictStatus.OK:
            assert 0.0 <= verdict.confidence <= 1.0 and verdict.is_threat is not None


class _Reads(dict[str, Any]):
    """A stats mapping that records the keys read."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        super().__init__(data)
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)


@pytest.mark.parametrize("detector", sorted(DETECTOR_MODULES))
def test_rules_read_only_documented_statistics(detector: str) -> None:
    documented = documented_keys(DETECTOR_MODULES[detector])
    for incident in _one_per_kind(detector):
        stats = _Reads(incident.stats)
        KIND_RULES[incident.kind].judge(stats)
        assert stats.read, incident.kind
        assert stats.read <= documented, (incident.kind, sorted(stats.read - documented))
