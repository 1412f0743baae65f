"""Connector settings from a TOML file, with ``${VAR}`` interpolation for secrets.

One table per connection under ``[connectors]``; ``type`` names the connector class
(``opensearch``, ``elasticsearch``, ``splunk``, ``kafka``) and defaults to the table name,
every other key is a keyword argument of that class::

    [connectors.opensearch]
    hosts = ["https://siem.example:9200"]
    index = "logs-fw-*"
    username = "triage"
    password = "${OPENSEARCH_PASSWORD}"
    ca_certs = "/etc/ssl/siem-ca.pem"

    [connectors.prod-splunk]
    type = "splunk"
    host = "splunk.example"
    token = "${SPLUNK_TOKEN}"
    hec_url = "https://splunk.example:8088"
    hec_token = "${SPLUNK_HEC_TOKEN:-}"

``${NAME}`` is replaced by the environment variable ``NAME`` (an error names the file, table
and key when it is unset; the value itself never appears in messages), ``${NAME:-default}``
falls back to ``default``, and ``$$`` is a literal ``$``. Interpolation applies to strings at
any depth, so secrets never need to be written into the file.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .base import Connector, get_connector

__all__ = [
    "CONFIG_ENV",
    "ConnectorConfig",
    "default_config_path",
    "interpolate",
    "load_connector_config",
]

CONFIG_ENV = "SIEM_CONSENSUS_CONNECTORS"
"""Environment variable naming the connector config file (else ``./siem-consensus.toml``)."""

_DEFAULT_NAME = "siem-consensus.toml"
_VAR = re.compile(r"\$(?:\$|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\})")


def interpolate(value: Any, where: str, environ: Mapping[str, str] | None = None) -> Any:
    """Replace ``${VAR}`` / ``${VAR:-default}`` in every string of ``value``.

    Args:
        value: A TOML value: string, number, bool, list or table.
        where: Location for error messages, e.g. ``"conf.toml [connectors.splunk] token"``.
        environ: Variables to use (default ``os.environ``).

    Raises:
        ConfigError: A referenced variable is unset and has no default, or a ``$`` is not
            followed by ``{NAME}`` or ``$``.
    """
    env = os.environ if environ is None else environ
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            name, default = match["name"], match["default"]
            if name in env:
                return env[name]
            if default is not None:
                return default
            raise ConfigError(
                f"{where}: environment variable {name} is not set "
                f"(export it, or write ${{{name}:-default}} for a fallback)"
            )

        result = _VAR.sub(substitute, value)
        stray = _VAR.sub("", value)
        if "$" in stray:
            raise ConfigError(
                f"{where}: a '$' must start ${{NAME}} or ${{NAME:-default}}; write $$ for a "
                "literal dollar sign"
            )
        return result
    if isinstance(value, list):
        return [interpolate(item, f"{where}[{n}]", env) for n, item in enumerate(value)]
    if isinstance(value, dict):
        return {key: interpolate(item, f"{where}.{key}", env) for key, item in value.items()}
    return value


@dataclass(frozen=True)
class ConnectorConfig:
    """The connections of a config file: name -> (type, settings), secrets interpolated.

    Attributes:
        path: The file the settings came from ("<dict>" when built from a mapping).
        tables: Raw tables by connection name (before interpolation; ``repr`` shows only
            their names, as a table may hold a literal secret).
    """

    path: str
    tables: Mapping[str, Mapping[str, Any]]

    def __repr__(self) -> str:
        return f"ConnectorConfig(path={self.path!r}, names={self.names!r})"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], path: str = "<dict>") -> ConnectorConfig:
        """Check the ``[connectors]`` layout of a parsed TOML document."""
        connectors = data.get("connectors")
        if not isinstance(connectors, Mapping) or not connectors:
            raise ConfigError(
                f"{path}: no [connectors.NAME] tables; see docs/connectors.md for the layout"
            )
        tables: dict[str, Mapping[str, Any]] = {}
        for name, table in connectors.items():
            if not isinstance(table, Mapping):
                raise ConfigError(f"{path}: connectors.{name} must be a table, not a value")
            kind = table.get("type", name)
            if not isinstance(kind, str):
                raise ConfigError(f"{path} [connectors.{name}] type: must be a string")
            get_connector(kind)  # unknown types fail when the file is read, listing valid ones
            tables[name] = table
        return cls(path=path, tables=tables)

    @property
    def names(self) -> list[str]:
        """Connection names, in file order."""
        return list(self.tables)

    def type_of(self, name: str) -> str:
        """The connector type of connection ``name``."""
        kind: str = self._table(name).get("type", name)
        return kind

    def settings(self, name: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Keyword arguments of connection ``name``, with environment variables substituted."""
        table = {k: v for k, v in self._table(name).items() if k != "type"}
        where = f"{self.path} [connectors.{name}]"
        return {k: interpolate(v, f"{where} {k}", environ) for k, v in table.items()}

    def create(self, name: str, environ: Mapping[str, str] | None = None) -> Connector:
        """Build the connector of connection ``name``."""
        cls = get_connector(self.type_of(name))
        where = f"{self.path} [connectors.{name}]"
        settings = self.settings(name, environ)
        try:
            return cls.from_settings(settings, where=where)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # a client library refused a setting (a URL cut short, a list as password); its
            # text may quote the value, which may be secret: every setting value is masked
            detail = _masked(f"{type(exc).__name__}: {exc}", settings)
            raise ConfigError(
                f"{where}: a setting is not usable ({detail}); see docs/connectors.md"
            ) from None

    def _table(self, name: str) -> Mapping[str, Any]:
        try:
            return self.tables[name]
        except KeyError:
            raise ConfigError(
                f"{self.path}: no connection named {name!r}; "
                f"configured: {', '.join(self.tables) or 'none'}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.tables)


def _masked(text: str, settings: Mapping[str, Any]) -> str:
    """``text`` with every setting value (and any ``user:password@``) replaced by ``***``."""
    text = re.sub(r"//[^/@\s]+@", "//***@", text)
    values: list[str] = []
    for value in settings.values():
        items = value if isinstance(value, list | tuple) else [value]
        values += [str(v) for v in items if not isinstance(v, bool) and len(str(v)) >= 3]
    for value in sorted(set(values), key=len, reverse=True):
        text = text.replace(value, "***")
    return text


def default_config_path() -> Path:
    """``$SIEM_CONSENSUS_CONNECTORS`` if set, else ``./siem-consensus.toml``."""
    return Path(os.environ.get(CONFIG_ENV) or _DEFAULT_NAME)


def load_connector_config(path: str | os.PathLike[str] | None = None) -> ConnectorConfig:
    """Read a connector config file (default: :func:`default_config_path`).

    Raises:
        ConfigError: The file is missing, is not valid TOML (with line and column), or has
            no ``[connectors.NAME]`` tables or an unknown ``type``.
    """
    file = Path(path) if path is not None else default_config_path()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{file}: connector config not found; pass --connectors FILE or set {CONFIG_ENV}"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    return ConnectorConfig.from_mapping(data, str(file))
