"""Rules for firewall detections: port scan, network sweep, brute force, beaconing, DGA.

Thresholds (boundary-tested in ``tests/test_rules_thresholds.py``): a port scan is a threat
from :data:`SCAN_MIN_PORTS` distinct ports, a sweep from :data:`SWEEP_MIN_HOSTS` hosts, brute
force from :data:`BRUTE_MIN_ATTEMPTS` attempts against one target. DGA-like DNS is a threat
from :data:`DGA_MIN_DOMAINS` failed domains of which at least :data:`DGA_MIN_SHARE` look
algorithmic, each asked for at most :data:`DGA_MAX_REPEATS` times; the same statistics under a
beacon's ``dga`` raise the beacon's confidence.
"""

from __future__ import annotations

import math

from ._rules_base import Judgement, KindRule, Stats, as_number, count, flag, items, mapping, number

__all__ = [
    "BRUTE_MIN_ATTEMPTS",
    "DGA_MAX_REPEATS",
    "DGA_MIN_DOMAINS",
    "DGA_MIN_SHARE",
    "FIREWALL_RULES",
    "SCAN_MIN_PORTS",
    "SWEEP_MIN_HOSTS",
]

SCAN_MIN_PORTS = 10
"""Distinct ports from one source at which a port scan is a threat."""
SWEEP_MIN_HOSTS = 20
"""Distinct hosts from one source at which a network sweep is a threat."""
BRUTE_MIN_ATTEMPTS = 50
"""Attempts against one authentication service at which brute force is a threat."""
DGA_MIN_DOMAINS = 20
"""Distinct domains answered NXDOMAIN to one host at which DGA-like DNS is a threat..."""
DGA_MIN_SHARE = 0.5
"""...when at least this share of them look algorithmic..."""
DGA_MAX_REPEATS = 3.0
"""...and each was asked for at most this many times on average."""

_BENIGN_BEACON_PORTS = {53: "DNS", 123: "NTP"}


def _bonus(stats: Stats) -> tuple[float, list[str]]:
    score, why = 0.0, []
    if not flag(stats, "internal_source"):
        score += 0.05
        why.append("source is external")
    deny = number(stats, "deny_ratio") or 0.0
    if deny >= 0.9:
        score += 0.04
        why.append(f"{deny:.0%} of attempts were denied")
    return score, why


def _port_scan(stats: Stats) -> Judgement:
    ports, sensitive = count(stats, "distinct_ports"), len(items(stats, "sensitive_ports"))
    extra, why = _bonus(stats)
    conf = 0.6 + min(0.02 * max(ports - 10, 0), 0.1) + min(0.03 * sensitive, 0.18) + extra
    why.insert(0, f"{ports} distinct ports probed, {sensitive} of them sensitive services")
    return ports >= SCAN_MIN_PORTS, min(conf, 0.97), why


def _sweep(stats: Stats) -> Judgement:
    hosts, sensitive = count(stats, "distinct_hosts"), len(items(stats, "sensitive_ports"))
    extra, why = _bonus(stats)
    conf = 0.6 + min(0.01 * max(hosts - 20, 0), 0.15) + min(0.05 * sensitive, 0.1) + extra
    why.insert(0, f"{hosts} hosts contacted on few ports")
    return hosts >= SWEEP_MIN_HOSTS, min(conf, 0.97), why


def _brute_force(stats: Stats) -> Judgement:
    attempts = count(stats, "max_attempts_same_target")
    extra, why = _bonus(stats)
    conf = 0.65 + min(0.05 * math.log2(max(attempts, 1) / 50), 0.2) + extra
    why.insert(0, f"{attempts} attempts against one authentication service")
    return attempts >= BRUTE_MIN_ATTEMPTS, max(0.5, min(conf, 0.97)), why


def _ports(stats: Stats) -> set[int]:
    values = (as_number(port, None) for port in items(stats, "ports"))
    return {int(value) for value in values if value is not None}


def _beaconing(stats: Stats) -> Judgement:
    cv = number(stats, "beacon_cv", None)
    ports = _ports(stats)
    service = next((name for port, name in _BENIGN_BEACON_PORTS.items() if port in ports), None)
    if cv is None or cv < 0:
        return False, 0.5, ["no inter-arrival statistics"]
    why = [f"inter-arrival coefficient of variation {cv:.2f} (regular)"]
    if service is not None:
        return False, 0.7, [*why, f"regular {service} traffic is expected"]
    conf = 0.6 + 0.25 * max(0.0, 1 - cv / 0.3)
    if flag(stats, "internal_source"):
        why.append("an internal host calls out on a fixed schedule")
    dga, dga_why = _dga(mapping(stats, "dga"))
    if dga[0]:
        conf += 0.1
        why.append(f"supported by the same host's DNS: {dga_why}")
    return True, min(conf, 0.95), why


def _dga(stats: Stats) -> tuple[Judgement, str]:
    """DGA-like DNS statistics judged; the second value summarises them."""
    domains = count(stats, "failed_domains")
    share = number(stats, "algorithmic_share", None)
    repeats = number(stats, "lookups_per_domain", None)
    if share is None or not 0.0 <= share <= 1.0:
        return (False, 0.5, ["no name-shape statistics"]), "no name-shape statistics"
    summary = f"{domains} distinct domains failed (NXDOMAIN), {share:.0%} algorithmic-looking"
    if repeats is not None and repeats > DGA_MAX_REPEATS:
        why = [summary, f"each retried {repeats:.1f} times: a misconfigured name, not a generator"]
        return (False, 0.6, why), summary
    if domains < DGA_MIN_DOMAINS or share < DGA_MIN_SHARE:
        return (False, 0.6, [summary, "too few or too word-like for a generator"]), summary
    conf = 0.65 + min(0.05 * math.log2(domains / DGA_MIN_DOMAINS), 0.15) + 0.1 * share
    return (True, min(conf, 0.9), [summary, "a host hunting for its C2 server"]), summary


def _dga_kind(stats: Stats) -> Judgement:
    return _dga(stats)[0]


def _internet_scan(stats: Stats) -> Judgement:
    """Background scanning of an internet-facing host: a threat only where a service answered."""
    sources = count(stats, "sources")
    exposed = items(stats, "exposed_sensitive_ports")
    why = [f"{sources} external source(s) slowly probed {count(stats, 'distinct_ports')} ports"]
    if exposed:
        listed = ", ".join(str(p) for p in exposed)
        return True, 0.7, [*why, f"sensitive services reachable from the internet: {listed}"]
    return False, 0.8, [*why, "every sensitive probe was refused: routine internet background"]


FIREWALL_RULES: dict[str, KindRule] = {
    "port_scan": KindRule(
        category="reconnaissance",
        goal="map the services exposed on the target to find one to exploit",
        impact="precedes exploitation of exposed databases, remote access and file sharing",
        actions=(
            "Block the source address at the perimeter (recommend; needs approval)",
            "Confirm which probed services are reachable and patched on the target",
            "Watch for follow-up exploitation from the same source",
        ),
        judge=_port_scan,
    ),
    "network_sweep": KindRule(
        category="reconnaissance",
        goal="find live hosts running a given service across the network",
        impact="precedes mass exploitation or worm-like spread",
        actions=(
            "Block the source address at the perimeter (recommend; needs approval)",
            "Inventory hosts exposing the swept ports",
        ),
        judge=_sweep,
    ),
    "brute_force": KindRule(
        category="credential_access",
        goal="guess valid credentials for a remote login service",
        impact="account takeover and an authenticated foothold",
        actions=(
            "Block the source address (recommend; needs approval)",
            "Check the target's auth logs for any successful login from the source",
            "Enforce lockout / MFA on the targeted service",
        ),
        judge=_brute_force,
    ),
    "beaconing": KindRule(
        category="command_and_control",
        goal="keep a command-and-control channel alive from a compromised host",
        impact="remote control of an internal host; staging for exfiltration",
        actions=(
            "Inspect the internal host for malware (recommend isolation; needs approval)",
            "Look up the destination in threat intelligence",
        ),
        judge=_beaconing,
    ),
    "dga": KindRule(
        category="command_and_control",
        goal="find a live command-and-control server among algorithmically generated domains",
        impact="an infected host about to take orders; the next resolved name is its C2",
        actions=(
            "Inspect the host for malware (recommend isolation; needs approval)",
            "Sinkhole or block the resolved generated domains at the resolver",
            "Look for connections from the host to the addresses they resolved to",
        ),
        judge=_dga_kind,
    ),
    "internet_scan": KindRule(
        category="reconnaissance",
        goal="find exposed services on an internet-facing address, at internet scale",
        impact="none while every probed service is closed; an exposed admin or database port "
        "is the first step of an intrusion",
        actions=(
            "Check that the exposed sensitive services must be reachable from the internet",
            "Restrict them to known sources or a VPN (recommend; needs approval)",
        ),
        judge=_internet_scan,
    ),
}
