"""Detect: one closed session of one entity through a fresh detector of the family."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._codec import session_frame
from ._families import Family
from ._population import measure

__all__ = ["detect_and_measure", "detect_session"]


def detect_session(family: Family, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The incidents (JSON-ready) a batch run would find in these events of one entity.

    An event delivered twice (at-least-once processing after a worker died) counts once: rows
    are unique by ``(source, line)``, the event's id. Sessions shorter than
    ``family.min_events`` cannot fire a rule and skip the detector.
    """
    return detect_and_measure(family, rows, population=False)[0]


def detect_and_measure(
    family: Family, rows: Sequence[Mapping[str, Any]], *, population: bool
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """:func:`detect_session`, and with ``population`` the session's population share.

    The share (see :mod:`._population`) needs the detector even on sessions too short to
    fire; None for families whose population is not summed, or without ``population``.
    """
    rows = list({(row["source"], row["line"]): row for row in rows}.values())
    if len(rows) < family.min_events and not (population and rows):
        return [], None
    detector = family.detector()
    detector.update(session_frame(rows))
    found = detector.finish()
    incidents = found if len(rows) >= family.min_events else []
    share = measure(family.name, detector) if population else None
    return [incident.model_dump(mode="json") for incident in incidents], share
