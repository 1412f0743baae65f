"""Detect: one closed session of one entity through a fresh detector of the family."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._codec import session_frame
from ._families import Family
from ._population import measure
from ._screen import screen_sessions

__all__ = ["detect_and_measure", "detect_session", "detect_sessions"]

Rows = Sequence[Mapping[str, Any]]
Found = tuple[list[dict[str, Any]], dict[str, Any] | None]


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
    rows = _unique(rows)
    if len(rows) < family.min_events and not (population and rows):
        return [], None
    detector = family.detector()
    detector.update(session_frame(rows))
    found = detector.finish()
    incidents = found if len(rows) >= family.min_events else []
    share = measure(family.name, detector) if population else None
    return [incident.model_dump(mode="json") for incident in incidents], share


def detect_sessions(family: Family, sessions: Sequence[Rows], *, population: bool) -> list[Found]:
    """:func:`detect_and_measure` of each session, for many sessions at once.

    The result is the same, session by session; what changes is the cost. Firewall sessions
    are screened together (:func:`._screen.screen_sessions`: one detector run gives every
    session's population share and the few sessions that may fire); only those go through
    their own detector, for their incidents. Other families: one detector per session.
    """
    unique = [_unique(rows) for rows in sessions]
    if family.name != "firewall":
        return [detect_and_measure(family, rows, population=population) for rows in unique]
    found: list[Found] = [([], None)] * len(unique)
    wanted = [i for i, rows in enumerate(unique) if rows and (population or _long(family, rows))]
    screened = screen_sessions([unique[i] for i in wanted])
    for index, (may_fire, share) in zip(wanted, screened, strict=True):
        if may_fire and _long(family, unique[index]):
            found[index] = detect_and_measure(family, unique[index], population=population)
        else:
            found[index] = ([], share if population else None)
    return found


def _long(family: Family, rows: Rows) -> bool:
    """Whether a session has the events to fire a rule at all."""
    return len(rows) >= family.min_events


def _unique(rows: Rows) -> list[Mapping[str, Any]]:
    """Rows unique by event id ``(source, line)``: a redelivered event counts once."""
    return list({(row["source"], row["line"]): row for row in rows}.values())
