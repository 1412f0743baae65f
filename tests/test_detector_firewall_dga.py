"""DGA-like DNS in the firewall detector: name shapes, thresholds, benign DNS, beacon support."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import run_cli

from siem_consensus import analyze_firewall
from siem_consensus.analysts import BaselineAnalyst, RulesAnalyst, run_analyst
from siem_consensus.analysts.llm import build_case_prompt
from siem_consensus.analysts.rules import KIND_RULES
from siem_consensus.detectors.base import detect_stream
from siem_consensus.detectors.firewall import FirewallDetector, FirewallThresholds
from siem_consensus.detectors.firewall._dga_names import looks_algorithmic, registrable, shape
from siem_consensus.generators.dns import benign_dns, dga_dns, dns_line, dns_log
from siem_consensus.models import Incident, VerdictStatus
from siem_consensus.sources import EventStream

T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
HOST = "10.1.70.5"


def _run(*inputs: list[str], cfg: FirewallThresholds | None = None) -> list[Incident]:
    detector = FirewallDetector(cfg)
    return detect_stream(iter(EventStream(list(inputs))), detector)


def _lookups(labels: list[str], tld: str | list[str] = "com", repeat: int = 1) -> list[str]:
    rows = []
    for n, label in enumerate(labels):
        for r in range(repeat):
            ts = T0 + timedelta(seconds=3 * n + r)
            zone = tld if isinstance(tld, str) else tld[n % len(tld)]
            rows.append((ts, dns_line(ts, HOST, f"www.{label}.{zone}", "NXDOMAIN")))
    return dns_log(rows)


def _algorithmic(count: int) -> list[str]:
    rng = random.Random(count)
    labels = sorted({"".join(rng.choice("jkqvwxyz") for _ in range(9)) for _ in range(count)})
    assert len(labels) == count and all(looks_algorithmic(shape(x)) for x in labels)
    return labels


def _wordy(count: int) -> list[str]:
    words = ("garden", "portal", "sunset", "market", "lemon", "harbor", "planet", "silver")
    labels = [f"{a}{b}" for a in words for b in words if a != b][:count]
    assert len(labels) == count and not any(looks_algorithmic(shape(x)) for x in labels)
    return labels


def _beacon(host: str = HOST, n: int = 30) -> list[str]:
    lines = []
    for k in range(n):  # an internal host calls out every 60 s, allowed
        ts = T0 + timedelta(seconds=60 * k)
        lines.append(
            f"{ts:%b} {ts.day:2d} {ts:%H:%M:%S} firewall %ASA-6-302013: Built outbound TCP "
            f"connection {9000 + k} for outside:192.0.2.77/8081 (192.0.2.77/8081) to "
            f"inside:{host}/{50000 + k} ({host}/{50000 + k})"
        )
    return lines


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("abcdefg123", True),  # digits 30%
        ("abcdefgh12", False),  # digits 20%
        ("amstrbo", True),  # five consonants in a row
        ("amstro", False),  # four
        ("javaboat", True),  # rare letters 25%
        ("javaboats", False),  # 22%
        ("bcd1fg", True),  # no vowel, six characters
        ("bcd1f", False),  # five
        ("1234567", False),  # all digits: an address-like label
    ],
)
def test_name_shape_tests_on_both_sides(label: str, expected: bool) -> None:
    assert looks_algorithmic(shape(label)) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("d1a2b3c4.cloudfront.net", ("cloudfront.net", "cloudfront")),
        ("news.bbc.co.uk.", ("bbc.co.uk", "bbc")),
        ("x.example.de", ("example.de", "example")),
        ("wpad", None),
        ("4.3.2.1.in-addr.arpa", None),
        ("printer.local", None),
    ],
)
def test_registrable_domain(name: str, expected: tuple[str, str] | None) -> None:
    assert registrable(name) == expected


def test_generated_dga_is_found_with_its_statistics() -> None:
    rows = dga_dns(random.Random(3), T0, HOST, 40, resolved=4)
    [incident] = _run(dns_log(rows))
    assert (incident.kind, incident.entities.source_ips) == ("dga", (HOST,))
    assert [a.technique_id for a in incident.attack] == ["T1568.002"]
    stats = incident.stats
    assert (stats["lookups"], stats["failed_lookups"], stats["failed_domains"]) == (40, 36, 36)
    assert stats["lookups_per_domain"] == 1.0 and stats["tlds"] <= 2
    assert stats["algorithmic_share"] >= 0.6
    assert incident.event_count == 36 and len(incident.evidence) == 36
    assert all(e.event_code == "NXDOMAIN" and e.dns_question for e in incident.evidence)


@pytest.mark.parametrize(("count", "found"), [(19, False), (20, True)])
def test_min_failed_domains_boundary(count: int, found: bool) -> None:
    assert bool(_run(_lookups(_algorithmic(count)))) is found


@pytest.mark.parametrize(("repeat", "found"), [(3, True), (4, False)])
def test_max_lookups_per_domain_boundary(repeat: int, found: bool) -> None:
    assert bool(_run(_lookups(_algorithmic(25), repeat=repeat))) is found


@pytest.mark.parametrize(("tlds", "found"), [(4, True), (5, False)])
def test_min_domains_per_tld_boundary(tlds: int, found: bool) -> None:
    zones = ["com", "net", "org", "info", "biz"][:tlds]
    assert bool(_run(_lookups(_algorithmic(20), tld=zones))) is found  # 5.0 vs 4.0 per TLD


@pytest.mark.parametrize(("algorithmic", "found"), [(15, True), (14, False)])
def test_algorithmic_share_boundary(algorithmic: int, found: bool) -> None:
    labels = _algorithmic(algorithmic) + _wordy(30 - algorithmic)  # 50% vs 46.7%
    assert bool(_run(_lookups(labels))) is found


def test_benign_dns_raises_nothing() -> None:
    """CDN and hash-like names, NTP, updates, reverse lookups, antivirus hash lookups, typos, a
    DNS blocklist, trackers blocked by a filtering resolver: 9,060 lookups of 22 clients."""
    lines = dns_log(benign_dns(random.Random(11), T0, hours=2, clients=20))
    detector = FirewallDetector()
    assert detect_stream(iter(EventStream([lines])), detector) == []
    assert detector.counters["dns_lookups"] == len(lines) - 6 == 9060


def test_dga_among_benign_dns_is_the_only_incident() -> None:
    rng = random.Random(5)
    rows = benign_dns(rng, T0, hours=1, clients=10) + dga_dns(rng, T0, "10.1.30.12", 30)
    incidents = _run(dns_log(rows))
    assert [(i.kind, i.entities.source_ips) for i in incidents] == [("dga", ("10.1.30.12",))]


def test_dga_supports_a_beacon_of_the_same_host() -> None:
    dns = dns_log(dga_dns(random.Random(3), T0 + timedelta(minutes=5), HOST, 40))
    alone = {i.kind: i for i in _run(_beacon())}
    both = {i.kind: i for i in _run(_beacon(), dns)}
    assert set(both) == {"beaconing"}  # attached, not a second incident
    beacon, before = both["beaconing"], alone["beaconing"]
    assert beacon.stats["dga"]["failed_domains"] == 38
    assert beacon.score == pytest.approx(min(before.score + 0.15, 1.0))
    assert [a.technique_id for a in beacon.attack] == ["T1071", "T1568.002"]
    assert beacon.reasons[-1].startswith("Supporting evidence: the same host had 38 distinct")
    assert any(e.dns_question for e in beacon.evidence)
    assert {k: v for k, v in beacon.stats.items() if k != "dga"} == before.stats


def test_dga_of_another_host_or_long_before_stays_apart() -> None:
    other = dns_log(dga_dns(random.Random(3), T0, "10.1.70.6", 40))
    kinds = sorted(i.kind for i in _run(_beacon(), other))
    assert kinds == ["beaconing", "dga"]
    early = dns_log(dga_dns(random.Random(3), T0 - timedelta(days=2), HOST, 40))
    assert sorted(i.kind for i in _run(_beacon(), early)) == ["beaconing", "dga"]


def test_dns_rows_are_not_connections() -> None:
    dns = dns_log(benign_dns(random.Random(2), T0, hours=1, clients=5))
    alone = _run(_beacon())
    both = _run(_beacon(), dns)
    assert [(i.id, i.event_count, i.stats) for i in both] == [
        (i.id, i.event_count, i.stats) for i in alone
    ]


def test_members_of_a_dga_incident_are_its_failed_lookups(tmp_path: Path) -> None:
    conn, dns = tmp_path / "asa.log", tmp_path / "dns.log"
    other = _beacon("10.1.70.6", n=3)  # a few connections of the DGA host: not members
    conn.write_text("\n".join(_beacon() + other[1:]) + "\n", encoding="utf-8")
    rows = dga_dns(random.Random(3), T0, "10.1.70.6", 30, resolved=3)
    middle = T0 + timedelta(seconds=30)  # a lookup that resolved, amid the failed ones
    rows.append((middle, dns_line(middle, "10.1.70.6", "intranet.corp.example")))
    dns.write_text("\n".join(dns_log(rows)) + "\n", encoding="utf-8")
    detector = FirewallDetector()
    incidents = detect_stream(iter(EventStream([conn, dns])), detector)
    dga = next(i for i in incidents if i.kind == "dga")
    beacon = next(i for i in incidents if i.kind == "beaconing")
    members: dict[str, set[str]] = {}
    for _, batch in EventStream([conn, dns]):
        for row in detector.assign(batch, incidents).iter_rows(named=True):
            members.setdefault(row["incident_id"], set()).add(row["event_id"])
    assert members[dga.id] == {e.event_id for e in dga.evidence} and len(members[dga.id]) == 27
    assert all(m.startswith("dns.log:") for m in members[dga.id])
    assert len(members[beacon.id]) == 30
    assert all(m.startswith("asa.log:") for m in members[beacon.id])


@pytest.mark.parametrize("rcode", ["SERVFAIL", "REFUSED", None])
def test_only_nxdomain_is_a_failure(rcode: str | None) -> None:
    """A broken resolver fails every name: SERVFAIL, REFUSED or no reply is not a DGA."""
    rows = []
    for n, label in enumerate(_algorithmic(40)):
        ts = T0 + timedelta(seconds=3 * n)
        rows.append((ts, dns_line(ts, HOST, f"{label}.com", rcode)))
    assert _run(dns_log(rows)) == []


def test_failed_domains_past_the_cap_are_counted_not_stored() -> None:
    cfg = FirewallThresholds(dga_max_domains=10)
    detector = FirewallDetector(cfg)
    [incident] = detect_stream(iter(EventStream([_lookups(_algorithmic(30))])), detector)
    assert incident.stats["failed_domains"] == 30
    assert detector.counters["dga_domains_uncounted"] == 20


def test_closed_windows_are_dropped() -> None:
    rows = []
    for hour in range(6):
        start = T0 + timedelta(hours=hour)
        rows += dga_dns(random.Random(hour), start, HOST, 25, resolved=0, spacing_s=1.0)
    detector = FirewallDetector(FirewallThresholds(max_open_rows=0))
    stream = EventStream([dns_log(rows)], chunk_lines=10)
    open_windows = []
    for _, batch in stream:
        detector.update(batch)
        open_windows.append(len(detector._dga._clients))
    assert max(open_windows) <= 3  # the current window and at most two behind it
    late = dns_log(dga_dns(random.Random(9), T0, HOST, 25, resolved=0))  # hour 0 again
    for _, batch in EventStream([late]):
        detector.update(batch)
    assert detector.counters["dns_late"] == 25
    assert [i.kind for i in detector.finish()] == ["dga"] * 6


def _judge(incident: Incident) -> list[Any]:
    async def run() -> list[Any]:
        return [await run_analyst(a, incident) for a in (RulesAnalyst(), BaselineAnalyst())]

    return asyncio.run(run())


def test_embedded_analysts_judge_dga_and_supported_beacons() -> None:
    dga = _run(dns_log(dga_dns(random.Random(3), T0, "10.1.70.6", 40)))[0]
    rules, baseline = _judge(dga)
    assert (rules.status, rules.is_threat, rules.category) == (
        VerdictStatus.OK,
        True,
        "command_and_control",
    )
    assert baseline.status is VerdictStatus.ABSTAINED
    dns = dns_log(dga_dns(random.Random(3), T0, HOST, 40))
    supported = _run(_beacon(), dns)[0]
    plain = _run(_beacon())[0]
    assert _judge(supported)[0].confidence == pytest.approx(_judge(plain)[0].confidence + 0.1)


@pytest.mark.parametrize(
    ("stats", "threat"),
    [
        ({"failed_domains": 20, "algorithmic_share": 0.5, "lookups_per_domain": 3.0}, True),
        ({"failed_domains": 19, "algorithmic_share": 0.9, "lookups_per_domain": 1.0}, False),
        ({"failed_domains": 50, "algorithmic_share": 0.49, "lookups_per_domain": 1.0}, False),
        ({"failed_domains": 50, "algorithmic_share": 0.9, "lookups_per_domain": 3.1}, False),
        ({"failed_domains": 50, "algorithmic_share": None}, False),
    ],
)
def test_rules_dga_thresholds(stats: dict[str, Any], threat: bool) -> None:
    assert KIND_RULES["dga"].judge(stats)[0] is threat


ODD: list[Any] = [None, -1, 10**30, float("nan"), float("inf"), "x", "12", True, [], {"a": 1}]


@pytest.mark.parametrize("key", ["failed_domains", "algorithmic_share", "lookups_per_domain"])
@pytest.mark.parametrize("value", ODD)
def test_beacon_support_with_odd_values(key: str, value: Any) -> None:
    stats: dict[str, Any] = {"beacon_cv": 0.1, "ports": [8081], "internal_source": True}
    stats["dga"] = {"failed_domains": 40, "algorithmic_share": 0.9, "lookups_per_domain": 1.0}
    stats["dga"][key] = value
    is_threat, confidence, _ = KIND_RULES["beaconing"].judge(stats)
    assert is_threat and 0.0 <= confidence <= 1.0


def test_cli_reads_a_dns_log_next_to_the_connection_log(tmp_path: Path) -> None:
    conn, dns = tmp_path / "asa.log", tmp_path / "dns.log"
    conn.write_text("\n".join(_beacon()) + "\n", encoding="utf-8")
    rows = dga_dns(random.Random(3), T0, HOST, 40)
    dns.write_text("\n".join(dns_log(rows)) + "\n", encoding="utf-8")
    done = run_cli(["firewall", "asa.log", "dns.log", "--format", "json", "-q"], tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["input"]["formats"] == {"asa.log": "asa", "dns.log": "zeek-dns"}
    [beacon] = report["incidents"]
    assert beacon["kind"] == "beaconing" and beacon["stats"]["dga"]["failed_domains"] == 38


def test_llm_case_shows_the_dga_numbers() -> None:
    """Pseudonymized names hide their shape, so the numbers that measured it go to the LLM."""
    dga = _run(dns_log(dga_dns(random.Random(3), T0, "10.1.70.6", 40)))[0]
    user = build_case_prompt(dga).user
    for key in ("failed_domains", "algorithmic_share", "lookups_per_domain", "domains_per_tld"):
        assert f'"{key}": {json.dumps(dga.stats[key])}' in user
    beacon = _run(_beacon(), dns_log(dga_dns(random.Random(3), T0, HOST, 40)))[0]
    assert '"dga": {' in build_case_prompt(beacon).user


def test_baseline_judges_dga_against_every_dns_client() -> None:
    rng = random.Random(9)
    rows = benign_dns(rng, T0, hours=1, clients=30) + dga_dns(rng, T0, "10.1.30.12", 60)
    report = analyze_firewall(dns_log(rows))
    [incident] = report.incidents
    population = incident.stats["population"]
    assert population["keys"] == 32  # 30 clients, the mail server, the tracker-filtered host
    assert population["failed_domains_mean"] < 10 < incident.stats["failed_domains"]
    baseline = next(v for v in report.decisions[0].verdicts if v.analyst == "baseline")
    assert baseline.status is VerdictStatus.OK and baseline.is_threat
    assert report.decisions[0].outcome.value == "alert"
    small = _run(dns_log(dga_dns(random.Random(3), T0, HOST, 40)))[0]
    assert small.stats["population"]["keys"] == 1
    assert _judge(small)[1].status is VerdictStatus.ABSTAINED  # too few clients for a baseline


def test_ignored_sources_are_not_judged() -> None:
    lines = dns_log(dga_dns(random.Random(3), T0, HOST, 40))
    cfg = FirewallThresholds(dga_ignored_sources=("10.1.70.0/28",))
    assert _run(lines, cfg=cfg) == [] and len(_run(lines)) == 1
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 network"):
        FirewallThresholds(dga_ignored_sources=("10.1.70.0/33",))


def test_local_name_broadcasts_are_not_dns_clients() -> None:
    """NetBIOS, mDNS and LLMNR queries (ports 137, 5353, 5355) are not resolution."""
    rows = dga_dns(random.Random(3), T0, HOST, 40)
    for n, (port, resolver) in enumerate([(137, "10.1.70.255"), (5353, "224.0.0.251")] * 15):
        ts = T0 + timedelta(seconds=n)
        line = dns_line(ts, "10.1.70.9", f"PRINTER{n}.CORP", None, resolver=resolver)
        rows.append((ts, line.replace(f"\t{resolver}\t53\t", f"\t{resolver}\t{port}\t")))
    detector = FirewallDetector()
    [incident] = detect_stream(iter(EventStream([dns_log(rows)])), detector)
    assert detector.counters["dns_lookups"] == 40
    assert incident.stats["population"]["keys"] == 1
