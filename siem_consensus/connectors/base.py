"""The connector contract: read events from a SIEM, write decisions back.

To implement a connector, subclass :class:`Connector`, set the ``name`` class variable (it
registers the class in :data:`CONNECTORS`), and implement :meth:`Connector.iter_events` and
:meth:`Connector.write_decisions`. Import the vendor SDK lazily inside the module and raise
:class:`~siem_consensus.errors.MissingDependencyError` when it is absent; turn SDK failures into
:class:`~siem_consensus.errors.ConnectorError` with a message that says what to do.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from ..errors import ConfigError
from ..models import DeadLetter, Event, WriteFailure, WriteResult
from ..report import Report

__all__ = [
    "CONNECTORS",
    "Connector",
    "ConnectorQuery",
    "WriteFailure",
    "WriteResult",
    "get_connector",
]

_USERINFO = re.compile(r"^([A-Za-z][\w+.-]*://)?[^/\s]*@")  # "user:password@"

CONNECTORS: dict[str, type[Connector]] = {}
"""Connector classes by name (filled by subclasses that set ``name``)."""


class Connector(ABC):
    """Base class of SIEM connectors (see the module docstring for how to write one)."""

    name: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Only a class that names itself registers: a subclass that inherits the name (a test
        # double, a customised connector) must not silently replace the registered class.
        if "name" in cls.__dict__ and cls.name:
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

    @property
    def rereadable(self) -> bool:
        """Whether running a search again yields the same events (``members_path`` re-runs it).

        False for a reader that moves on as it reads, like a Kafka consumer group.
        """
        return True

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], *, where: str = "settings") -> Connector:
        """Build the connector from plain settings (a TOML table): keyword arguments by name.

        Lists become tuples (``auth = ["user", "${PASSWORD}"]``). An unknown or missing
        setting raises :class:`~siem_consensus.errors.ConfigError` naming ``where`` and the
        settings the connector accepts. A string given for a plain boolean or number setting
        (``${VAR}`` always gives one) is converted: ``"true"``/``"false"``, ``"8089"``,
        ``"2.5"``; any other string is a ConfigError (``"false"`` would otherwise be true).
        """
        import inspect

        params = inspect.signature(cls.__init__).parameters
        accepted = [
            name
            for name in params
            if name != "self"
            and params[name].kind.name in ("POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY")
        ]
        unknown = sorted(set(settings) - set(accepted))
        if unknown:
            raise ConfigError(
                f"{where}: unknown {cls.name} setting(s) {', '.join(unknown)}; "
                f"accepted: {', '.join(accepted)}"
            )
        missing = [
            name
            for name in accepted
            if params[name].default is inspect.Parameter.empty and name not in settings
        ]
        if missing:
            raise ConfigError(f"{where}: {cls.name} needs {', '.join(missing)}")
        kwargs = {
            name: _setting(value, params[name].annotation, f"{where} {name}")
            for name, value in settings.items()
        }
        return cls(**kwargs)

    def search(
        self,
        query: Mapping[str, Any] | str | None = None,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> ConnectorQuery:
        """A re-readable source for the entry points: ``analyze_firewall(siem.search(q))``.

        Unlike :meth:`iter_events`, the run accounts the connector's dead letters (documents
        that could not become events) in the report, and ``members_path`` works because the
        query can run again.
        """
        return ConnectorQuery(self, query, start, end)

    def __enter__(self) -> Connector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class ConnectorQuery:
    """One search of one connector, usable as a source of the entry points (re-runs on read).

    Attributes:
        connector: The connector to read from.
        query: Native query (dict) or query string; None matches everything.
        start: Inclusive lower time bound.
        end: Exclusive upper time bound.
    """

    connector: Connector
    query: Mapping[str, Any] | str | None = None
    start: datetime | None = None
    end: datetime | None = None

    @property
    def name(self) -> str:
        """Source name used in event ids: the connector name."""
        return self.connector.name or type(self.connector).__name__

    @property
    def dead_letters(self) -> list[DeadLetter]:
        """The connector's dead letters so far (``[]`` for connectors that keep none)."""
        letters: list[DeadLetter] = getattr(self.connector, "dead_letters", [])
        return letters

    @property
    def skipped(self) -> int:
        """Records the connector read that carry no event, e.g. Suricata ``stats`` (0 if none)."""
        count: int = getattr(self.connector, "skipped", 0)
        return count

    def __iter__(self) -> Iterator[Event]:
        return self.connector.iter_events(self.query, start=self.start, end=self.end)


def _setting(value: Any, annotation: Any, where: str) -> Any:
    """A TOML value as the keyword argument: lists as tuples, scalar strings converted."""
    if isinstance(value, list):
        return tuple(value)
    kind = getattr(annotation, "__name__", annotation)
    if not isinstance(value, str) or kind not in ("bool", "int", "float"):
        return value
    text = value.strip().lower()
    try:
        if kind == "bool" and text in ("true", "false"):
            return text == "true"
        if kind != "bool":
            return int(text) if kind == "int" else float(text)
    except ValueError:
        pass
    expected = {"bool": "true or false", "int": "an integer", "float": "a number"}[kind]
    # the value is not shown: it may come from a ${VAR} holding a secret
    raise ConfigError(f"{where}: must be {expected} (the value given is not; it is not shown)")


def without_credentials(url: str) -> str:
    """``url`` without the ``user:password@`` part, for messages (clients accept it in URLs)."""
    return _USERINFO.sub(r"\1", url)


def get_connector(name: str) -> type[Connector]:
    """The connector class registered under ``name``; ConfigError lists the valid names."""
    try:
        return CONNECTORS[name]
    except KeyError:
        raise ConfigError.unknown("connector", name, CONNECTORS) from None
