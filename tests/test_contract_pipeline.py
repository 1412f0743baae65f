"""Contract from parser to decision: parsed rows of every format, through their detector, into
the embedded analysts and the consensus, never give an ``error`` verdict.

The parser sample files of each format give real parsed rows; Hypothesis amplifies a template
row into attack-shaped traffic (many ports, many hosts, many attempts, a mix of signatures,
any sensor severity, timestamps missing or packed) mixed with the other rows, feeds it to the
format's detector, judges every incident with ``rules`` and ``baseline`` and decides with the
detector's default policy and threshold, as the graphs do. CERT data comes from the seeded
insider generator (a few rows cannot build a behavioural baseline).
"""

from __future__ import annotations

import asyncio
import functools
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siem_consensus.analysts import BaselineAnalyst, RulesAnalyst, run_analyst
from siem_consensus.api import DECISION_DEFAULTS
from siem_consensus.consensus import Check, decide, get_policy
from siem_consensus.detectors import get_detector
from siem_consensus.detectors.base import detect_stream
from siem_consensus.generators.insider import (
    generate_cert_shapes_dataset,
    generate_insider_dataset,
)
from siem_consensus.graphs.ids import stages_observed
from siem_consensus.models import Decision, Incident, VerdictStatus
from siem_consensus.parsers import PARSERS
from siem_consensus.parsers.cert import cert_inputs, read_ldap
from siem_consensus.sources import EventStream

SAMPLES = Path(__file__).parent / "data" / "parsers"
FIREWALL_FORMATS = {
    "asa": "asa.log",
    "cicflowmeter": "cicflowmeter_2017.csv",
    "iptables": "iptables.log",
    "paloalto": "paloalto.log",
    "pfsense": "pfsense.log",
    "zeek": "zeek_conn.log",
    "zeek-json": "zeek_conn.json",
    "ecs": "ecs.jsonl",
}
IDS_FORMATS = {
    "suricata": "ids/suricata_eve.jsonl",
    "wazuh": "ids/wazuh_alerts.json",
    "fastlog": "ids/fastlog.log",
    "splunk": "ids/splunk_export.json",
    "ait-ads": "ids/ait_ads.csv",
}
DNS_FORMATS = {"zeek-dns": "zeek_dns.log", "zeek-dns-json": "zeek_dns.json"}
AUTH_FORMATS = {
    "openssh": "openssh.log",
    "zeek-ssh": "zeek_ssh.log",
    "zeek-ssh-json": "zeek_ssh.json",
}
CERT_FORMATS = {"cert", "cert-logon", "cert-device", "cert-file", "cert-http", "cert-email"}
FAMILY = {
    **dict.fromkeys(FIREWALL_FORMATS, "firewall"),
    **dict.fromkeys(DNS_FORMATS, "firewall"),
    **dict.fromkeys(IDS_FORMATS, "ids"),
    **dict.fromkeys(AUTH_FORMATS, "auth"),
}
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PATTERNS = ("ports", "hosts", "repeat", "auth", "mix", "names")


def test_every_registered_format_is_covered() -> None:
    assert set(PARSERS) == set(FAMILY) | CERT_FORMATS


@functools.cache
def parsed(fmt: str) -> pl.DataFrame:
    """The parsed rows of a format's sample file."""
    files = {**FIREWALL_FORMATS, **DNS_FORMATS, **IDS_FORMATS, **AUTH_FORMATS}
    frames = [b for _, b in EventStream([SAMPLES / files[fmt]], input_format=fmt)]
    frame = pl.concat(frames)
    assert frame.height > 0, fmt
    return frame


def amplify(
    rows: pl.DataFrame, template: int, pattern: str, n: int, step_s: int, severity: int | None
) -> pl.DataFrame:
    """``n`` copies of one parsed row shaped by ``pattern``, then every row cycled for ``mix``."""
    base = rows.slice(template % rows.height, 1) if pattern != "mix" else rows
    copies = pl.concat([base] * max(1, n // base.height + (pattern == "mix")))
    i = pl.int_range(0, pl.len(), dtype=pl.Int64)
    columns = [
        (pl.col("timestamp").fill_null(pl.lit(T0)) + pl.duration(seconds=i * step_s))
        .cast(rows.schema["timestamp"])
        .alias("timestamp")
    ]
    if pattern == "ports":
        columns.append((i + 1).cast(pl.Int32).alias("destination_port"))
    elif pattern == "hosts":
        ip = pl.format("10.77.{}.{}", i // 250, i % 250 + 1)
        columns.append(ip.alias("destination_ip"))
    elif pattern == "auth":
        columns.append(pl.lit(22, pl.Int32).alias("destination_port"))
    elif pattern == "names":  # failed lookups of generated-looking domains under 3 TLDs
        columns.append(pl.format("qz{}kx.example{}", i, i % 3).alias("dns_question"))
        columns.append(pl.lit("NXDOMAIN").alias("event_code"))
    if severity is not None or pattern == "mix":
        columns.append(pl.lit(severity, pl.Int32).alias("event_severity"))
    return copies.with_columns(columns)


def _numbered(frames: list[pl.DataFrame]) -> pl.DataFrame:
    frame = pl.concat(frames)
    return frame.with_columns(
        pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias("line"),
        pl.lit("contract.log").alias("source"),
    )


def decisions_for(family: str, incidents: list[Incident]) -> list[Decision]:
    """What the graphs do after detection: embedded analysts, checks, default policy."""
    defaults = DECISION_DEFAULTS[family]
    policy = get_policy(defaults.policy, defaults.threshold)
    checks: tuple[Check, ...] = (stages_observed,) if family == "ids" else ()

    async def run() -> list[Decision]:
        analysts = (RulesAnalyst(), BaselineAnalyst())
        out = []
        for incident in incidents:
            verdicts = [await run_analyst(a, incident) for a in analysts]
            out.append(decide(incident, verdicts, policy, checks))
        return out

    return asyncio.run(run())


def _errors(decisions: list[Decision]) -> list[str]:
    return [
        f"{d.incident_id}: {v.analyst}: {v.error}"
        for d in decisions
        for v in d.verdicts
        if v.status is VerdictStatus.ERROR
    ] + [f"{d.incident_id}: degraded" for d in decisions if d.degraded]


def _detect(fmt: str, frame: pl.DataFrame, batches: int = 1) -> list[Incident]:
    detector = get_detector(FAMILY[fmt])()
    size = max(1, frame.height // batches + 1)
    return detect_stream(((fmt, b) for b in frame.iter_slices(size)), detector)


@st.composite
def traffic(draw: st.DrawFn) -> tuple[str, pl.DataFrame]:
    """A format and parsed rows of it, amplified into a shape worth detecting."""
    fmt = draw(st.sampled_from(sorted(FAMILY)))
    rows = parsed(fmt)
    parts = [
        amplify(
            rows,
            template=draw(st.integers(0, 50)),
            pattern=draw(st.sampled_from(PATTERNS)),
            n=draw(st.integers(1, 300)),
            step_s=draw(st.sampled_from((0, 1, 20, 60, 600))),
            severity=draw(st.one_of(st.none(), st.integers(0, 15))),
        )
        for _ in range(draw(st.integers(1, 3)))
    ]
    background = draw(st.integers(0, 3))
    frame = _numbered([*parts, *([rows] * background)])
    if draw(st.booleans()):
        frame = frame.sample(fraction=1.0, shuffle=True, seed=draw(st.integers(0, 9)))
    return fmt, frame


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(traffic(), st.integers(1, 3))
def test_parsed_rows_of_every_format_reach_a_decision_without_error(
    drawn: tuple[str, pl.DataFrame], batches: int
) -> None:
    fmt, frame = drawn
    incidents = _detect(fmt, frame, batches)
    assert _errors(decisions_for(FAMILY[fmt], incidents)) == []


@pytest.mark.parametrize("fmt", sorted(FIREWALL_FORMATS))
def test_a_port_fan_out_of_each_firewall_format_is_decided(fmt: str) -> None:
    """Not vacuous: the shape the property draws does make incidents in every format."""
    rows = parsed(fmt)
    shapes = (_numbered([amplify(rows, t, "ports", 200, 1, None)]) for t in range(rows.height))
    incidents = next((found for frame in shapes if (found := _detect(fmt, frame))), [])
    assert incidents, fmt
    decisions = decisions_for("firewall", incidents)
    assert _errors(decisions) == [] and len(decisions) == len(incidents)


@pytest.mark.parametrize("fmt", sorted(DNS_FORMATS))
def test_generated_names_of_each_dns_format_are_decided(fmt: str) -> None:
    """Not vacuous for DNS logs either: failed lookups of generated names make a dga incident."""
    rows = parsed(fmt)
    incidents = _detect(fmt, _numbered([amplify(rows, 0, "names", 200, 1, None)]))
    assert [i.kind for i in incidents] == ["dga"], fmt
    decisions = decisions_for("firewall", incidents)
    assert _errors(decisions) == [] and len(decisions) == 1


@pytest.mark.parametrize("fmt", sorted(IDS_FORMATS))
@pytest.mark.parametrize("severity", [None, 1, 4])
def test_mixed_signatures_of_each_ids_format_are_decided(fmt: str, severity: int | None) -> None:
    frame = _numbered([amplify(parsed(fmt), 0, "mix", 300, 5, severity)])
    incidents = _detect(fmt, frame)
    assert incidents, fmt
    assert _errors(decisions_for("ids", incidents)) == []


@pytest.mark.parametrize("fmt", sorted(AUTH_FORMATS))
def test_repeated_attempts_of_each_auth_format_are_decided(fmt: str) -> None:
    """Not vacuous: repeated rows of every auth sample make an incident, decided cleanly."""
    rows = parsed(fmt)
    shapes = (_numbered([amplify(rows, t, "repeat", 300, 2, None)]) for t in range(rows.height))
    incidents = next((found for frame in shapes if (found := _detect(fmt, frame))), [])
    assert incidents, fmt
    assert _errors(decisions_for("auth", incidents)) == []


@settings(max_examples=2, deadline=None)
@given(st.integers(1, 50))
def test_cert_data_reaches_a_decision_without_error(seed: int) -> None:
    with tempfile.TemporaryDirectory(prefix="contract-cert-") as tmp:
        generate_insider_dataset(tmp, seed, users=20, days=40)
        inputs = cert_inputs(Path(tmp))
        directory = read_ldap(inputs.ldap) if inputs.ldap else None
        detector = get_detector("insider")(directory=directory)  # type: ignore[call-arg]
        incidents = detect_stream(iter(EventStream(list(inputs.event_files))), detector)
    assert incidents
    assert _errors(decisions_for("insider", incidents)) == []


@settings(max_examples=2, deadline=None)
@given(st.integers(1, 50))
def test_cert_r42_shapes_reach_a_decision_without_error(seed: int) -> None:
    with tempfile.TemporaryDirectory(prefix="contract-cert-shapes-") as tmp:
        generate_cert_shapes_dataset(tmp, seed, users=60, days=100, per_scenario=1)
        inputs = cert_inputs(Path(tmp))
        directory = read_ldap(inputs.ldap) if inputs.ldap else None
        detector = get_detector("insider")(directory=directory)  # type: ignore[call-arg]
        incidents = detect_stream(iter(EventStream(list(inputs.event_files))), detector)
    assert len({i.entities.users[0] for i in incidents}) >= 3
    assert _errors(decisions_for("insider", incidents)) == []
