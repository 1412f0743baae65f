"""Closed sessions, one record per message that closed them (Quix session windows).

The engine's ``session_window(...).collect().final(closing_strategy="partition")`` emits each
closed session as its own record. A message that moves a partition's event time closes every
session that was due at once (at end of input: every open session of the partition), so
handing them on *together* lets the detect stage measure all of them in one detector run
(:func:`._detect.detect_sessions`) instead of one run per session. :func:`closed_sessions`
is that ``final``, with the engine's own session logic (``SessionWindow.process_window``:
the same state, the same closing rule), grouping what one message closed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._control import is_control

__all__ = ["closed_sessions"]


def closed_sessions(window: Any) -> Any:
    """A dataframe of ``{"sessions": [[key, start, values], ...]}`` records, from ``window``.

    Args:
        window: A Quix session window with ``collect()``; sessions close by partition.

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
            transaction=transaction,
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
