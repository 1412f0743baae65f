"""The connector contract: read events from a SIEM, write decisions back.

To implement a connector, subclass :class:`Connector`, set the ``name`` class variable (it
registers the class in :data:`CONNECTORS`), and implement :meth:`Connector.iter_events` and
:meth:`Connector.write_decisions`. Import the vendor SDK lazily inside the module and raise
:class:`~siem_consensus.errors.MissingDependencyError` when it is absent; turn SDK failures into
:class:`~siem_consensus.errors.ConnectorError` with a message that says what to do.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ..errors import ConfigError
from ..models import Event
from ..report import Report

__all__ = ["CONNECTORS", "Connector", "WriteFailure", "WriteResult", "get_connector"]

CONNECTORS: dict[str, type[Connector]] = {}
"""Connector classes by name (filled by subclasses that set ``name``)."""


class WriteFailure(BaseModel):
    """One document the SIEM refused, and why."""

    model_config = ConfigDict(frozen=True)

    doc_id: str = Field(description="Document id that was refused.")
    incident_id: str = Field("", description="Incident the document describes.")
    status: int = Field(0, description="HTTP status of the item (0 when the whole call failed).")
    error_type: str = Field("", description="SIEM error type, e.g. mapper_parsing_exception.")
    reason: str = Field("", description="SIEM error reason, as reported.")


class WriteResult(BaseModel):
    """What a write-back did: every document is either written or listed as a failure."""

    model_config = ConfigDict(frozen=True)

    target: str = Field(description="Where the documents went (index, topic, ...).")
    attempted: int = Field(0, description="Documents sent.")
    created: int = Field(0, description="Documents that did not exist before.")
    updated: int = Field(0, description="Documents that replaced an earlier write (re-runs).")
    failures: tuple[WriteFailure, ...] = Field((), description="Refused documents, one each.")

    @property
    def ok(self) -> bool:
        """True when every document was written."""
        return not self.failures

    @property
    def written(self) -> int:
        """Documents created or updated."""
        return self.created + self.updated


class Connector(ABC):
    """Base class of SIEM connectors (see the module docstring for how to write one)."""

    name: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            CONNECTORS[cls.name] = cls

    @abstractmethod
    def iter_events(
        self,
        query: Mapping[str, Any] | str | None = None,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> Iterator[Event]:
        """Stream matching events, oldest first, each exactly once.

        Args:
            query: Native query (dict) or query string; None matches everything.
            start: Inclusive lower bound on ``@timestamp``.
            end: Exclusive upper bound on ``@timestamp``.
        """

    @abstractmethod
    def write_decisions(self, report: Report) -> WriteResult:
        """Write each decision with its incident back; re-running updates, never duplicates."""

    @abstractmethod
    def close(self) -> None:
        """Release network resources."""

    def __enter__(self) -> Connector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def get_connector(name: str) -> type[Connector]:
    """The connector class registered under ``name``; ConfigError lists the valid names."""
    try:
        return CONNECTORS[name]
    except KeyError:
        raise ConfigError.unknown("connector", name, CONNECTORS) from None
