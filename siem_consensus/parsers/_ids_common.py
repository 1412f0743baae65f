"""Converters shared by the IDS alert parsers (Suricata, fast.log, Wazuh, Splunk, AIT-ADS).

IDS alerts carry attacker-controlled text (payloads, URLs, user agents, raw log lines). It is kept
as data, never interpreted, and clipped to :data:`TEXT_CHARS` characters so one alert cannot
flood a prompt or a report. Severities are kept on the sensor's own scale (Suricata 1 = highest,
Wazuh 0-16 with 16 highest); :func:`to_level` only checks that they are small integers.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any, Final

from ._syslog import parse_iso
from ._values import to_text
from .base import LineError

__all__ = [
    "TEXT_CHARS",
    "clip",
    "first",
    "lower",
    "mapping",
    "scrub",
    "to_ip",
    "to_iso_time",
    "to_level",
]

TEXT_CHARS: Final = 1000
"""Untrusted free text (payloads, full log lines, URLs, user agents) is cut to this length."""


def clip(value: object, field: str, limit: int = TEXT_CHARS) -> str | None:
    """Untrusted text, at most ``limit`` characters; None and empty mean absent.

    Raises:
        LineError: a list, object or boolean where text was expected.
    """
    text = to_text(value, field)
    if text is None or len(text) <= limit:
        return text
    return text[:limit]


def lower(value: object, field: str) -> str | None:
    """Lower-cased text (``TCP`` -> ``tcp``); None and empty mean absent."""
    text = to_text(value, field)
    return text.lower() if text else None


def to_level(value: object, field: str, high: int = 255) -> int | None:
    """A severity, priority or level: an integer 0..``high`` from a number or digits.

    Raises:
        LineError: not an integer, or out of range.
    """
    if value is None or value in ("", "-"):
        return None
    if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
        raise LineError(f"{field} is not an integer: {value!r}")
    try:
        level = int(value) if isinstance(value, int | float) else int(str(value).strip())
    except ValueError:
        raise LineError(f"{field} is not an integer: {str(value)[:40]!r}") from None
    if not 0 <= level <= high:
        raise LineError(f"{field} {level} is out of range 0-{high}")
    return level


def to_ip(value: object, field: str) -> str | None:
    """:func:`~siem_consensus.parsers._values.to_ip` with a cache: alerts repeat addresses.

    Raises:
        LineError: not an IP address.
    """
    if value is None or value in ("", "-"):
        return None
    text = value if isinstance(value, str) else str(value)
    address = _canonical_ip(text)
    if address is None:
        raise LineError(f"{field} is not an IP address: {text[:60]!r}")
    return address


@lru_cache(maxsize=65_536)
def _canonical_ip(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def to_iso_time(value: object, field: str) -> datetime | None:
    """An ISO 8601 timestamp (``2017-03-25T16:49:58.856335-0600``) as UTC; None if absent.

    Raises:
        LineError: not a string, or not a valid ISO 8601 timestamp.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise LineError(f"{field} must be an ISO 8601 string, got {type(value).__name__}")
    try:
        return parse_iso(value.strip())
    except LineError:
        raise LineError(f"{field} is not an ISO 8601 timestamp: {value[:40]!r}") from None


def mapping(value: object) -> Mapping[str, Any]:
    """``value`` when it is a JSON object, else an empty one (absent or malformed sections)."""
    return value if isinstance(value, Mapping) else {}


def first(record: Mapping[str, Any], *keys: str) -> Any:
    """The first value of ``keys`` that is present and not null or empty."""
    for key in keys:
        value = record.get(key)
        if value is not None and value != "":
            return value
    return None


def scrub(row: dict[str, Any]) -> dict[str, Any]:
    """Replace lone UTF-16 surrogates (JSON ``"\\ud800"``) that Arrow strings cannot hold.

    Python's JSON decoder accepts them, but building the event batch would fail on them, so
    they become U+FFFD in place (the text is untrusted data either way).
    """
    for key, value in row.items():
        if isinstance(value, str) and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raw = value.encode("utf-16-le", "surrogatepass")
                row[key] = raw.decode("utf-16-le", "replace")
    return row
