"""Settings of the Kafka connector: checked, then turned into kafka-python's keyword arguments.

:func:`check_security` and :func:`check_numbers` raise :class:`~siem_consensus.errors.ConfigError`
for settings that cannot work, naming settings, never their values; :func:`client_settings`
builds what every kafka-python client of the connector is given. :class:`Settings` is what the
reading and error modules read of the connector, at the time of each call.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Final, Protocol

from ...errors import ConfigError, MissingDependencyError

_PROTOCOLS: Final = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
_MECHANISMS: Final = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
_CLIENT_ID: Final = "siem-consensus"


class Settings(Protocol):
    """The connector settings that reads and error messages use, at the time of each call."""

    group_id: str | None
    sasl_mechanism: str | None
    security_protocol: str
    request_timeout: float
    connect_timeout: float
    batch_size: int

    @property
    def servers(self) -> str:
        """The bootstrap servers, for messages."""
        ...


def import_kafka() -> Any:
    """The ``kafka`` package (with ``kafka.errors`` loaded), or MissingDependencyError."""
    try:
        # kafka-python 3.0 loads its protocol schemas with importlib.resources.read_text,
        # deprecated on Python 3.11 and 3.12: not something our callers can act on.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import kafka
            import kafka.errors
    except ImportError:
        raise MissingDependencyError("kafka-python", "kafka") from None
    return kafka


def ms(seconds: float) -> int:
    """Seconds as kafka-python's milliseconds, at least 1."""
    return max(1, round(seconds * 1000))


def check_security(
    protocol: str,
    mechanism: str | None,
    credentials: Mapping[str, str | None],
    ssl_files: Mapping[str, str | None],
) -> None:
    """ConfigError for settings that do not go together (names settings, never values)."""
    if protocol not in _PROTOCOLS:
        raise ConfigError(
            f"kafka: security_protocol {protocol!r} is not one of {', '.join(_PROTOCOLS)}"
        )
    sasl = protocol.startswith("SASL_")
    given = [name for name, value in credentials.items() if value is not None]
    if not sasl and (given or mechanism is not None):
        names = ", ".join(["sasl_mechanism"] * (mechanism is not None) + given)
        raise ConfigError(f"kafka: {names} need security_protocol SASL_SSL (or SASL_PLAINTEXT)")
    if sasl and mechanism not in _MECHANISMS:
        raise ConfigError(
            f"kafka: security_protocol {protocol} needs sasl_mechanism, one of "
            f"{', '.join(_MECHANISMS)} (got {mechanism!r})"
        )
    missing = [name for name, value in credentials.items() if value is None]
    if sasl and missing:
        raise ConfigError(f"kafka: SASL {mechanism} needs {' and '.join(missing)}")
    tls = [name for name, value in ssl_files.items() if value is not None]
    if tls and protocol not in ("SSL", "SASL_SSL"):
        raise ConfigError(
            f"kafka: {', '.join(tls)} only apply with security_protocol SSL or SASL_SSL"
        )


def check_numbers(positive: Mapping[str, float], non_negative: Mapping[str, float]) -> None:
    """ConfigError for the first setting out of its range."""
    for name, value in positive.items():
        if not value > 0:
            raise ConfigError(f"kafka: {name} must be positive, got {value}")
    for name, value in non_negative.items():
        if not value >= 0:
            raise ConfigError(f"kafka: {name} must be zero or more, got {value}")


def client_settings(
    servers: Sequence[str],
    protocol: str,
    *,
    request_timeout: float,
    connect_timeout: float,
    retry_backoff: float,
    optional: Mapping[str, str | None],
) -> dict[str, Any]:
    """Keyword arguments of every kafka-python client of the connector (timeouts in seconds;
    ``optional``: the TLS and SASL settings by kafka-python's names, passed when set)."""
    return {
        "bootstrap_servers": servers,
        "client_id": _CLIENT_ID,
        "security_protocol": protocol,
        "request_timeout_ms": ms(request_timeout),
        "bootstrap_timeout_ms": ms(connect_timeout),
        "retry_backoff_ms": ms(retry_backoff),
        **{key: value for key, value in optional.items() if value is not None},
    }
