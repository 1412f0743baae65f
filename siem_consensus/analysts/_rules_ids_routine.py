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

from ._rules_base import Stats, items

__all__ = [
    "LOGIN_FAILURES_PER_HOUR",
    "ROUTINE_CLASSES",
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
    """Signature names from ``stats["signatures"]`` ([name, count] pairs, most first)."""
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


def maintenance_class(stats: Stats) -> str | None:
    """A maintenance class among the group's signatures (e.g. a software update), or None."""
    for name in _names(stats):
        found = signature_class(name)
        if found in _MAINTENANCE:
            return found
    return None
