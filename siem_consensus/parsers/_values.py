"""Field converters shared by the parsers: ports, counters, addresses, epoch times, JSON paths.

Each converter takes the raw value and the field name, and raises
:class:`~siem_consensus.parsers.base.LineError` with a message naming the field when the value
is unusable, so dead letters say exactly what to fix.
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from .base import MAX_LINE_CHARS, JsonParser, LineError, _Skip

__all__ = [
    "GuardedJsonParser",
    "share",
    "flatten",
    "loads_object",
    "parse_epoch",
    "to_count",
    "to_ip",
    "to_port",
    "to_text",
]

_MAX_COUNT: Final = 2**63 - 1
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def _integer(value: object, field: str, what: str) -> int:
    if isinstance(value, bool):
        raise LineError(f"{field} is not {what}: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        raise LineError(f"{field} is not {what}: {str(value)[:40]!r}") from None


def share(lines: Sequence[str], recognise: Callable[[str], object]) -> float:
    """Fraction of ``lines`` for which ``recognise`` is truthy (for ``sniff``); lines over the
    length limit count as unrecognised without being looked at."""
    if not lines:
        return 0.0
    hits = sum(1 for line in lines if len(line) <= MAX_LINE_CHARS and recognise(line))
    return hits / len(lines)


def to_port(value: object, field: str) -> int | None:
    """A port number 0-65535 from text or a number; None, empty and ``-`` mean absent.

    Raises:
        LineError: not an integer in range.
    """
    if value is None or value in ("", "-"):
        return None
    port = _integer(value, field, "a port number")
    if not 0 <= port <= 65535:
        raise LineError(f"{field} {port} is out of range 0-65535")
    return port


def to_count(value: object, field: str) -> int | None:
    """A non-negative 64-bit counter (bytes); None, empty and ``-`` mean absent.

    Raises:
        LineError: not a non-negative integer that fits in 64 bits.
    """
    if value is None or value in ("", "-"):
        return None
    count = _integer(value, field, "an integer")
    if not 0 <= count <= _MAX_COUNT:
        raise LineError(f"{field} {count} is out of range")
    return count


def to_ip(value: object, field: str) -> str | None:
    """A normalised IPv4/IPv6 address; None, empty and ``-`` mean absent.

    Raises:
        LineError: not an IP address.
    """
    if value is None or value in ("", "-"):
        return None
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise LineError(f"{field} is not an IP address: {str(value)[:60]!r}") from None


def to_text(value: object, field: str) -> str | None:
    """A string field; numbers are converted, None and empty strings mean absent.

    Raises:
        LineError: a list, object or boolean where text was expected.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise LineError(f"{field} must be a string, got {type(value).__name__}")


def parse_epoch(value: object, field: str, unit: str = "s") -> datetime:
    """An epoch time in seconds (``unit="s"``) or milliseconds (``"ms"``), as UTC.

    Raises:
        LineError: not a finite number in the datetime range.
    """
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)  # type: ignore[arg-type]
        if not math.isfinite(number):
            raise ValueError
        return _EPOCH + timedelta(seconds=number / 1000 if unit == "ms" else number)
    except (ValueError, OverflowError, TypeError):
        raise LineError(f"{field} is not a valid epoch time: {str(value)[:40]!r}") from None


def flatten(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Nested JSON objects as dotted keys: ``{"source": {"ip": x}}`` -> ``{"source.ip": x}``.

    Keys that are already dotted are kept, and win over the nested spelling of the same name.
    Iterative, so a pathologically deep record cannot exhaust the Python stack.
    """
    flat: dict[str, Any] = {}
    stack: list[tuple[str, Mapping[str, Any]]] = [("", obj)]
    while stack:
        prefix, current = stack.pop()
        nested = []
        for key, value in current.items():
            if isinstance(value, Mapping):
                nested.append((f"{prefix}{key}.", value))
            else:
                flat.setdefault(f"{prefix}{key}", value)
        stack.extend(reversed(nested))
    return flat


def loads_object(line: str) -> dict[str, Any] | None:
    """The JSON object on ``line``, or None when it is not one (for sniffing; never raises)."""
    if len(line) > MAX_LINE_CHARS or not line.lstrip().startswith("{"):
        return None
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


class GuardedJsonParser(JsonParser):
    """A :class:`JsonParser` whose lines cannot crash it by nesting deeper than the stack."""

    def parse_line(self, line: str) -> dict[str, Any] | _Skip:
        """Decode one JSON line (see :meth:`JsonParser.parse_line`).

        Raises:
            LineError: invalid JSON, not an object, nested too deeply, or rejected by
                ``parse_record``.
        """
        try:
            return super().parse_line(line)
        except RecursionError:
            raise LineError("JSON nested too deeply to decode") from None
