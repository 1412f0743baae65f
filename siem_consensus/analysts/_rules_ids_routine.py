"""Routine signature classes: what an IDS group looks like when nothing is being attacked.

Used by the IDS rules when the sensors gave no severity (AIT-ADS, some exports). Classes are
about what a signature *says* (a successful login, a software update, a malformed protocol
message, the sensor talking about itself), never about addresses, host names or dates, so
they carry over to any Suricata / Wazuh / AMiner deployment:

* ``authentication success``: a successful login or a login session opened or closed;
* ``software update``: antivirus database updates, package-manager user agents;
* ``protocol anomaly``: a malformed TLS/HTTP/SMTP/DNS exchange, reported by the decoder;
* ``sensor meta-alert``: the sensor's own bookkeeping ("IDS event", "multiple IDS alerts
  for the same id", "first time this IDS alert is generated", "new event type").

A flood of one of these is a tuning candidate; a flood of anything else without a severity
goes to a human once. A service stop next to a software update is maintenance.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._rules_base import Stats, items

__all__ = [
    "LOGIN_FAILURES_PER_HOUR",
    "ROUTINE_CLASSES",
    "episodes",
    "maintenance_class",
    "routine_class",
    "signature_class",
    "top_signature",
]

LOGIN_FAILURES_PER_HOUR = 50
"""Failed logins per active hour below which, without a severity, they are user error (the
firewall's brute-force rule uses the same 50 attempts)."""

ROUTINE_CLASSES: dict[str, re.Pattern[str]] = {
    "authentication success": re.compile(
        r"authentication success|login success|session (?:opened|closed)", re.I
    ),
    "software update": re.compile(
        r"(?:database|signature|definitions?) update|\b(?:apt|yum|dnf|zypper|pip|npm)\b"
        r"[ -]user[ -]agent|package manager",
        re.I,
    ),
    "protocol anomaly": re.compile(
        r"\b(?:tls|ssl|http|smtp|dns|ftp)\b.*\b(?:invalid|malformed|anomal\w*)\b", re.I
    ),
    "sensor meta-alert": re.compile(
        r"^(?:wazuh: )?ids event\.?$|multiple ids (?:alerts|events)|first time this ids alert"
        r"|^(?:aminer: )?new event type\.?$",
        re.I,
    ),
}
"""Routine class name -> pattern over the signature name."""

_MAINTENANCE = ("software update",)


def signature_class(signature: str) -> str | None:
    """The routine class of a signature name, or None."""
    for name, pattern in ROUTINE_CLASSES.items():
        if pattern.search(signature):
            return name
    return None


def _names(stats: Stats) -> list[str]:
    """Signature names from ``stats["signatures"]`` ([name, count] pairs or names, most first)."""
    names = []
    for entry in items(stats, "signatures"):
        name = entry[0] if isinstance(entry, list | tuple) and entry else entry
        if isinstance(name, str) and name:
            names.append(name)
    return names


def top_signature(stats: Stats) -> str | None:
    """The most frequent signature of the group, if the statistics name it."""
    names = _names(stats)
    return names[0] if names else None


def routine_class(stats: Stats) -> str | None:
    """The routine class of a single-signature group (a flood), or None."""
    names = _names(stats)
    classes = {signature_class(name) for name in names}
    if not names or None in classes or len(classes) != 1:
        return None
    return classes.pop()


def episodes(stats: Stats) -> list[Mapping[str, Any]]:
    """The episodes of a recurring finding (``stats["episodes"]`` entries that are mappings;
    the IDS correlator writes one per episode, see ``detectors/ids/_recurring.py``)."""
    return [entry for entry in items(stats, "episodes") if isinstance(entry, Mapping)]


def _maintenance_in(names: list[str]) -> str | None:
    for name in names:
        found = signature_class(name)
        if found in _MAINTENANCE:
            return found
    return None


def maintenance_class(stats: Stats) -> str | None:
    """A maintenance class among the group's signatures (e.g. a software update), or None.

    For a recurring finding of several episodes, every episode must have one: a service stop
    during an update next to a service stop with no update is not maintenance as a whole."""
    parts = episodes(stats)
    if len(parts) < 2:
        return _maintenance_in(_names(stats))
    found = [_maintenance_in(_names(part)) for part in parts]
    return found[0] if all(found) else None
