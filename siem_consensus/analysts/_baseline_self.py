"""What the baseline analyst says from an incident's own evidence, without a population.

Used only when the input is too small for a baseline (a capture holding one attack). Each
case is one a population could not overturn: no legitimate client guesses passwords at
machine speed or touches a hundred ports or hosts. Everything else gets ``None`` (abstain):
a small, slow or narrow incident needs the population to say whether it is unusual.

* ``brute_force``: at least :data:`SELF_MIN_ATTEMPTS` attempts against one target at
  :data:`SELF_MIN_RATE_PER_MIN` or more per minute;
* ``port_scan``: at least :data:`SELF_MIN_PORTS` distinct ports;
* ``network_sweep``: at least :data:`SELF_MIN_HOSTS` distinct hosts.
"""

from __future__ import annotations

import math

from ._rules_base import Stats, count, number

__all__ = [
    "SELF_MIN_ATTEMPTS",
    "SELF_MIN_HOSTS",
    "SELF_MIN_PORTS",
    "SELF_MIN_RATE_PER_MIN",
    "own_evidence",
]

SELF_MIN_ATTEMPTS = 100
"""Attempts against one target a brute force needs before its rate is judged."""
SELF_MIN_RATE_PER_MIN = 10.0
"""Attempts per minute above anything a person typing passwords produces."""
SELF_MIN_PORTS = 100
"""Distinct ports of one source no legitimate client touches."""
SELF_MIN_HOSTS = 100
"""Distinct hosts of one source on few ports no legitimate client touches."""


def _scaled(value: float, line: float) -> float:
    """0.8 at the line, +0.05 per doubling, at most 0.95."""
    return min(0.95, 0.8 + 0.05 * math.log2(max(value, line) / line))


def own_evidence(kind: str, stats: Stats) -> tuple[bool, float, str] | None:
    """(is_threat, confidence, reason) from the incident alone, or None to abstain."""
    if kind == "brute_force":
        attempts = count(stats, "max_attempts_same_target", count(stats, "events"))
        rate = number(stats, "rate_per_min") or 0.0
        if attempts >= SELF_MIN_ATTEMPTS and rate >= SELF_MIN_RATE_PER_MIN:
            return (
                True,
                _scaled(rate, SELF_MIN_RATE_PER_MIN),
                (f"{attempts} attempts against one target at {rate:.0f} per minute, machine speed"),
            )
        return None
    if kind == "port_scan":
        ports = count(stats, "distinct_ports")
        if ports >= SELF_MIN_PORTS:
            return True, _scaled(ports, SELF_MIN_PORTS), f"{ports} distinct ports from one source"
        return None
    if kind == "network_sweep":
        hosts = count(stats, "distinct_hosts")
        if hosts >= SELF_MIN_HOSTS:
            return True, _scaled(hosts, SELF_MIN_HOSTS), f"{hosts} distinct hosts from one source"
        return None
    return None
