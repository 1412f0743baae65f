"""Detect: one closed session of one entity through a fresh detector of the family."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._codec import session_frame
from ._families import Family

__all__ = ["detect_session"]


def detect_session(family: Family, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The incidents (JSON-ready) a batch run would find in these events of one entity.

    An event delivered twice (at-least-once processing after a worker died) counts once: rows
    are unique by ``(source, line)``, the event's id. Sessions shorter than
    ``family.min_events`` cannot fire a rule and skip the detector.
    """
    rows = list({(row["source"], row["line"]): row for row in rows}.values())
    if len(rows) < family.min_events:
        return []
    detector = family.detector()
    detector.update(session_frame(rows))
    return [incident.model_dump(mode="json") for incident in detector.finish()]
