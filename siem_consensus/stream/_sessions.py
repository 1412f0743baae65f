"""Closed sessions, one record per message that closed them (Quix session windows).

The engine's ``session_window(...).collect().final(closing_strategy="partition")`` emits each
closed session as its own record. A message that moves a partition's event time closes every
session that was due at once (at end of input: every open session of the partition), so
handing them on *together* lets the detect stage measure all of them in one detector run
(:func:`._detect.detect_sessions`) instead of one run per session. :func:`closed_sessions`
is that ``final``, with the engine's own session logic (``SessionWindow.process_window``:
the same state, the same closing rule), grouping what one message closed.

In a live feed the partition's event time moves with nearly every message, so without more
each message would close the one or two sessions that just fell due, and each would pay a
whole detector run (about 25 ms, most of it fixed cost: docs/scale.md). So the window reads
its partition's event time in whole *ticks* (:data:`CLOSE_TICK_MS` of log time): sessions
close when the event time crosses a tick, all of them on that one message, and are screened
together. A session closes at most a tick later than the engine alone would close it, and an
event counts as late only if it is late by the tick's event time (a tick later, too).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._control import is_control

__all__ = ["CLOSE_TICK_MS", "closed_sessions"]

CLOSE_TICK_MS = 60_000
"""Sessions close when their partition's event time crosses a whole minute of log time."""


class _Ticked:
    """A window's partition transaction whose event time reads as the last tick it passed.

    Everything else is the engine's transaction: the stored event time stays exact, only
    what the session window compares with (late events, due sessions) moves in ticks.
    """

    __slots__ = ("_tick_ms", "_transaction")

    def __init__(self, transaction: Any, tick_ms: int) -> None:
        self._transaction = transaction
        self._tick_ms = tick_ms

    def advance_partition_timestamp(self, timestamp_ms: int) -> int:
        watermark = int(self._transaction.advance_partition_timestamp(timestamp_ms))
        return watermark - watermark % self._tick_ms

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transaction, name)


def closed_sessions(window: Any, tick_ms: int = CLOSE_TICK_MS) -> Any:
    """A dataframe of ``{"sessions": [[key, start, values], ...]}`` records, from ``window``.

    Args:
        window: A Quix session window with ``collect()``; sessions close by partition.
        tick_ms: Sessions close when the partition's event time crosses a multiple of this;
            1 closes them as soon as the engine would.

    Returns:
        The engine's dataframe: one record per message that closed at least one session (of a
        key that is not a control key), keyed and timed as that message, holding each closed
        session's key, start (ms) and collected values; after it, for a message marked
        ``close`` (end of input, :mod:`._control`), a record ``{"close": True}``. (One branch
        of the dataframe, not a second one after the window: the engine copies every message
        into each further branch.)
    """
    from quixstreams.dataframe.windows.time_based import ClosingStrategy

    window._closing_strategy = ClosingStrategy.PARTITION  # noqa: SLF001 - as final("partition")

    def closing(
        value: Any, key: Any, timestamp_ms: int, headers: Any, transaction: Any
    ) -> Iterator[tuple[Any, Any, int, Any]]:
        _updated, expired = window.process_window(
            value=value, key=key, timestamp_ms=timestamp_ms, headers=headers,
            transaction=_Ticked(transaction, tick_ms) if tick_ms > 1 else transaction,
        )  # fmt: skip
        sessions = [
            [closed_key, closed["start"], closed["value"]]
            for closed_key, closed in expired
            if not is_control(closed_key)
        ]
        if sessions:
            yield {"sessions": sessions}, key, timestamp_ms, None
        if isinstance(value, dict) and value.get("close"):  # after what it released
            yield {"close": True}, key, timestamp_ms, None

    return window._apply_window(func=closing, name=window._name)  # noqa: SLF001
