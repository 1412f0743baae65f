"""Epoch numbers of unknown unit: seconds, milliseconds, microseconds or nanoseconds by size.

The rule (for ``@timestamp`` of ECS records and other fields documented as "epoch"):

=========================  ============  =====================================
absolute value             unit          because, as seconds, it would be
=========================  ============  =====================================
below 10^11                seconds       before the year 5138
10^11 to below 10^14       milliseconds  after 5138 (as ms: 1973 to 5138)
10^14 to below 10^17       microseconds
10^17 and above            nanoseconds
=========================  ============  =====================================

Values below 10^9 (before 2001-09-09 as seconds, within 12 days of 1970 as milliseconds) fit
neither well: they are read as seconds and logged once per process as ambiguous.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime, timedelta

from .base import LineError

__all__ = ["epoch_by_magnitude"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LOG = logging.getLogger("siem_consensus.parsers")
_warned: set[str] = set()
_UNITS = ((1e11, 1.0), (1e14, 1e3), (1e17, 1e6))


def epoch_by_magnitude(value: object, field: str) -> datetime:
    """An epoch number (or string of digits) as UTC, its unit chosen by the rule above.

    Raises:
        LineError: not a finite number in the datetime range.
    """
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)  # type: ignore[arg-type]
        if not math.isfinite(number):
            raise ValueError
        size = abs(number)
        divisor = next((d for bound, d in _UNITS if size < bound), 1e9)
        if size < 1e9 and number and field not in _warned:
            _warned.add(field)
            _LOG.warning(
                "%s %s is ambiguous (before 2001 as seconds, January 1970 as milliseconds): "
                "read as seconds",
                field,
                value,
            )
        return _EPOCH + timedelta(seconds=number / divisor)
    except (ValueError, OverflowError, TypeError):
        raise LineError(f"{field} is not a valid epoch time: {str(value)[:40]!r}") from None
