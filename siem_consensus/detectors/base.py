"""The detector contract: event batches in, candidate incidents out, no LLM anywhere.

How to write a detector:

1. Subclass :class:`Detector`, set ``name`` (registry key) and ``description``.
2. ``update(batch)`` folds one event batch into bounded state (aggregates per entity and time
   window, never the raw rows). Batches arrive in input order and carry the
   :data:`~siem_consensus.parsers.base.EVENT_SCHEMA` columns plus ``source``.
3. ``finish()`` returns the incidents, each with a bounded evidence sample whose ids are
   ``{source}:{line}``.
4. ``assign(batch, incidents)`` maps the events of a batch to the incidents they belong to; it
   is used by a second pass to write membership (``--members``) without keeping events.
5. Decorate with :func:`register`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ClassVar, TypeVar

import polars as pl

from ..errors import ConfigError
from ..models import Incident

__all__ = ["DETECTORS", "Detector", "detect_stream", "get_detector", "register"]


class Detector(ABC):
    """Base class of deterministic detectors."""

    name: ClassVar[str]
    description: ClassVar[str]

    @abstractmethod
    def update(self, batch: pl.DataFrame) -> None:
        """Fold one batch of events into the detector state."""

    @abstractmethod
    def finish(self) -> list[Incident]:
        """Close all windows and return the candidate incidents, most severe first."""

    @abstractmethod
    def assign(self, batch: pl.DataFrame, incidents: Sequence[Incident]) -> pl.DataFrame:
        """Rows ``event_id, incident_id`` for the events of ``batch`` inside ``incidents``."""


def detect_stream(
    batches: Iterable[tuple[str, pl.DataFrame]], detector: Detector
) -> list[Incident]:
    """Feed a stream of batches to a detector and return its incidents.

    Parsing the next batch overlaps with ``update`` on the current one: ``update`` runs in one
    worker thread (polars releases the GIL), and at most one batch waits, so memory stays
    bounded and batches are folded strictly in input order.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="detect") as pool:
        pending: Future[None] | None = None
        for _name, batch in batches:
            if pending is not None:
                pending.result()
            pending = pool.submit(detector.update, batch)
        if pending is not None:
            pending.result()
    return detector.finish()


DETECTORS: dict[str, type[Detector]] = {}
"""Registry of detector classes by name."""

_D = TypeVar("_D", bound=type[Detector])


def register(cls: _D) -> _D:
    """Class decorator adding a detector to :data:`DETECTORS`."""
    DETECTORS[cls.name] = cls
    return cls


def get_detector(name: str) -> type[Detector]:
    """Look a detector up by name; unknown names raise a ConfigError listing the valid ones."""
    try:
        return DETECTORS[name]
    except KeyError:
        raise ConfigError.unknown("detector", name, DETECTORS) from None
