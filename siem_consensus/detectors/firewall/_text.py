"""Titles, reasons and ATT&CK mapping of firewall incidents.

ATT&CK choices and why:

* ``port_scan``: T1046 Network Service Discovery; from an external source also T1595 Active
  Scanning (reconnaissance), listed first.
* ``network_sweep``: T1046; from an external source also T1595.001 Scanning IP Blocks.
* ``brute_force``: T1110 Brute Force only. A firewall sees connection attempts, not
  credentials, so guessing, spraying and stuffing (the sub-techniques) cannot be told apart.
* ``beaconing``: T1071 Application Layer Protocol only. A port number proves neither an
  encrypted channel (T1573) nor web traffic (T1071.001).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ...enrich.attack import attack_ref
from ...models import AttackRef
from ._config import FirewallThresholds

__all__ = ["attack_for", "human_duration", "reasons_for", "title_for"]


@cache
def attack_for(kind: str, internal_source: bool) -> tuple[AttackRef, ...]:
    """Validated ATT&CK techniques for an incident kind."""
    if kind == "brute_force":
        return (attack_ref("T1110"),)
    if kind == "beaconing":
        return (attack_ref("T1071"),)
    discovery = attack_ref("T1046")
    if internal_source:
        return (discovery,)
    scanning = attack_ref("T1595.001" if kind == "network_sweep" else "T1595")
    return (scanning, discovery)


def human_duration(seconds: float) -> str:
    """``45 s``, ``28 min``, ``1 h`` or ``2.5 h``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f}".removesuffix(".0") + " h"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _target(stats: dict[str, Any]) -> str:
    target = stats["target"]
    return f"{target['destination_ip']}:{target['destination_port']}/{target['transport']}"


def _hosts_text(hosts: tuple[str, ...], count: int) -> str:
    return hosts[0] if count == 1 and hosts else f"{count} hosts"


def _ports_text(ports: list[int]) -> str:
    shown = ", ".join(str(p) for p in ports[:5])
    more = f" and {len(ports) - 5} more" if len(ports) > 5 else ""
    return f"port{'s' if len(ports) > 1 else ''} {shown}{more}"


def title_for(kind: str, source: str, hosts: tuple[str, ...], stats: dict[str, Any]) -> str:
    """One-line summary, e.g. ``Port scan: 45.95.168.200 probed 13 ports on 10.1.50.10``."""
    if kind == "port_scan":
        where = _hosts_text(hosts, stats["distinct_hosts"])
        return f"Port scan: {source} probed {stats['distinct_ports']} ports on {where}"
    if kind == "network_sweep":
        ports = _ports_text(stats["ports"])
        return f"Network sweep: {source} probed {stats['distinct_hosts']} hosts on {ports}"
    if kind == "brute_force":
        return f"Brute force: {source} made {stats['events']} attempts on {_target(stats)}"
    every = stats["beacon_interval_s"] or 0.0
    return (
        f"Beaconing: {source} contacted {_target(stats)} {stats['events']} times"
        f" every ~{human_duration(every)}"
    )


def _scan_rule_text(stats: dict[str, Any], cfg: FirewallThresholds, window: str) -> str:
    ports, hosts = stats["distinct_ports"], stats["distinct_hosts"]
    if hosts > cfg.sweep_hosts:
        rule = f"more than {cfg.sweep_max_ports} ports on more than {cfg.sweep_hosts} hosts"
    elif hosts <= cfg.port_scan_max_hosts:
        rule = f"more than {cfg.port_scan_ports} ports on at most {cfg.port_scan_max_hosts} hosts"
    else:
        rule = f"more than {cfg.port_scan_ports} ports per host"
    return (
        f"{ports} distinct destination ports on {_plural(hosts, 'host')} (rule: {rule} "
        f"within a {window} window)."
    )


def _rule_text(kind: str, stats: dict[str, Any], cfg: FirewallThresholds) -> str:
    window = human_duration(cfg.window_s)
    if kind == "port_scan":
        return _scan_rule_text(stats, cfg, window)
    if kind == "network_sweep":
        ports = _plural(stats["distinct_ports"], "port")
        return (
            f"{stats['distinct_hosts']} hosts on {ports} (rule: more than {cfg.sweep_hosts} hosts"
            f" on at most {cfg.sweep_max_ports} ports within a {window} window)."
        )
    if kind == "brute_force":
        return (
            f"{stats['events']} attempts on {_target(stats)}, an authentication port (rule: more"
            f" than {cfg.brute_force_attempts} within a {window} window)."
        )
    return (
        f"{stats['events']} connections to {_target(stats)}, mean interval "
        f"{stats['beacon_interval_s']} s, coefficient of variation {stats['beacon_cv']} (rule: at "
        f"least {cfg.beacon_min_connections} connections, variation below {cfg.beacon_max_cv})."
    )


def reasons_for(kind: str, stats: dict[str, Any], cfg: FirewallThresholds) -> tuple[str, ...]:
    """Human sentences, with the numbers, explaining why the incident was raised."""
    deny = round(100 * stats["deny_ratio"])
    reasons = [
        _rule_text(kind, stats, cfg),
        f"{stats['events']} events over {human_duration(stats['duration_s'])} "
        f"({stats['rate_per_min']} per minute), {deny}% denied by the firewall.",
    ]
    sensitive = stats["sensitive_ports"]
    if sensitive:
        listed = ", ".join(str(p) for p in sensitive)
        reasons.append(f"{_plural(len(sensitive), 'sensitive port')} hit: {listed}.")
    if stats["duration_s"] >= cfg.long_activity_s:
        reasons.append(f"Activity lasted over {human_duration(cfg.long_activity_s)}.")
    side = "internal" if stats["internal_source"] else "external"
    reasons.append(f"The source is {side} (internal networks: {', '.join(cfg.internal_networks)}).")
    return tuple(reasons)
