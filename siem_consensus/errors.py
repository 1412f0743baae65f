"""Exceptions raised by siem_consensus, split by who must act.

Hierarchy::

    SiemConsensusError                 root: catch this to catch everything of ours
    ├── UsageError                     the caller must change something (config, arguments)
    │   ├── ConfigError                unknown name, bad threshold, missing env var, ...
    │   ├── UnknownFormatError         input format could not be detected / is not registered
    │   └── MissingDependencyError     an optional extra is not installed (says which pip command)
    └── RuntimeFailure                 something outside the caller's control failed
        ├── InputError                 a whole input could not be read (file missing, not text)
        ├── ProviderError              an LLM provider call failed (status, body, retry-after)
        └── ConnectorError             a SIEM connector failed

Bad *lines* never raise: they become :class:`~siem_consensus.models.DeadLetter` records.
Analyst failures never raise out of a graph either: they become degraded ``needs_review``
decisions. These exceptions are for what cannot be turned into data.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ConfigError",
    "ConnectorError",
    "InputError",
    "MissingDependencyError",
    "ProviderError",
    "RuntimeFailure",
    "SiemConsensusError",
    "UnknownFormatError",
    "UsageError",
]


class SiemConsensusError(Exception):
    """Root of every exception this library raises on purpose."""


class UsageError(SiemConsensusError):
    """The caller must change something: a name, an argument, a config value."""


class ConfigError(UsageError):
    """A configuration value is invalid; the message lists the valid choices."""

    @classmethod
    def unknown(cls, kind: str, name: str, valid: Iterable[str]) -> ConfigError:
        """Build the error for an unknown registry name, listing the valid ones."""
        choices = ", ".join(sorted(valid))
        kinds = f"{kind[:-1]}ies" if kind.endswith("y") else f"{kind}s"
        return cls(f"unknown {kind} {name!r}; valid {kinds} are: {choices}")


class UnknownFormatError(UsageError):
    """The input format could not be detected; pass ``input_format=`` / ``--input-format``."""


class MissingDependencyError(UsageError):
    """An optional dependency is missing; the message carries the install command."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f'{package} is not installed; install it with: pip install "siem-consensus[{extra}]"'
        )
        self.package = package
        self.extra = extra


class RuntimeFailure(SiemConsensusError):
    """Something outside the caller's control failed at run time."""


class InputError(RuntimeFailure):
    """A whole input could not be read (missing file, directory, permission)."""


class ProviderError(RuntimeFailure):
    """An LLM provider call failed.

    Attributes:
        provider: Provider name (``anthropic``, ``openai``, ...).
        status: HTTP status code, if the failure was an HTTP response.
        body_excerpt: At most 300 characters of the response body (never the request).
        retry_after: Seconds the provider asked us to wait, if it said.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        body_excerpt: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.status = status
        self.body_excerpt = body_excerpt[:300] if body_excerpt else body_excerpt
        self.retry_after = retry_after


class ConnectorError(RuntimeFailure):
    """A SIEM connector (Splunk, Elastic, OpenSearch, Kafka) failed."""
