"""splunkd's management API through splunk-sdk, for the Splunk connector.

:class:`SplunkRest` holds the session (logged in on first use), runs splunk-sdk calls with
retries of transient failures and turns their errors into
:class:`~siem_consensus.errors.ConnectorError` messages that say what to do. The retry and TLS
helpers also serve the HTTP Event Collector, which answers on its own port outside
splunk-sdk's ``Service``.
"""

from __future__ import annotations

import importlib
import json
import re
import ssl
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

from ...errors import ConfigError, ConnectorError, MissingDependencyError

_T = TypeVar("_T")

TRANSIENT = {500, 502, 503, 504}  # HEC 8 internal error, 9 busy, 18-20 unhealthy; gateways


class Settings(Protocol):
    """The connector settings the REST calls read, at the time of each call."""

    scheme: str
    host: str
    port: int
    url: str
    timeout: float
    max_retries: int
    retry_backoff: float


def import_splunklib() -> tuple[Any, Any]:
    """splunk-sdk's ``client`` and ``binding`` modules, or MissingDependencyError."""
    try:
        client = importlib.import_module("splunklib.client")
        binding = importlib.import_module("splunklib.binding")
    except ImportError:
        raise MissingDependencyError("splunk-sdk", "splunk") from None
    return client, binding


def tls_context(verify: bool, ca_certs: str | None) -> ssl.SSLContext | None:
    """The TLS context of REST and HEC requests (None: certificates are not verified)."""
    if not verify:
        return None
    try:
        return ssl.create_default_context(cafile=ca_certs)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"splunk: cannot read ca_certs {ca_certs!r}: {exc}") from None


def backoff(retry_backoff: float, attempt: int, retry_after: float | None) -> float:
    """Seconds to wait before retry ``attempt`` (doubling; a ``Retry-After`` wins)."""
    return max(retry_backoff * 2.0**attempt, retry_after or 0.0)


def retry_after(headers: Iterable[tuple[str, str]]) -> float | None:
    """The ``Retry-After`` header in seconds, if there is a numeric one."""
    for name, value in headers:
        if name.lower() == "retry-after":
            try:
                return float(value)
            except ValueError:
                return None
    return None


def tls_problem(url: str, exc: Exception) -> str:
    """What to do about a failed TLS handshake."""
    return f"TLS failed with Splunk at {url}: pass ca_certs= for a private CA ({exc})"


class SplunkRest:
    """One splunk-sdk ``Service`` for searches, and retried calls through it.

    Args:
        settings: The connector; its host, retry and timeout settings are read when used.
        client: ``splunklib.client``.
        binding: ``splunklib.binding``.
        handler: splunk-sdk HTTP handler (timeout and TLS settings), shared with HEC.
        auth: ``(username, password, token)``.
        namespace: ``(app, owner)`` of searches.
    """

    def __init__(
        self,
        settings: Settings,
        client: Any,
        binding: Any,
        handler: Any,
        *,
        auth: tuple[str | None, str | None, str | None],
        namespace: tuple[str | None, str | None],
    ) -> None:
        self.settings = settings
        self.binding = binding
        self.handler = handler
        self.service: Any = None
        self._client = client
        self._auth = auth
        self._namespace = namespace

    @property
    def url(self) -> str:
        """The management URL, for messages."""
        return self.settings.url

    def session(self) -> Any:
        """The logged-in ``Service`` (logs in on first use)."""
        if self.service is None:
            username, password, token = self._auth
            if not (username or token):
                raise ConfigError(
                    "splunk: searching needs username= and password=, or token= (an "
                    "authentication token)"
                )
            app, owner = self._namespace
            s = self.settings
            service = self._client.Service(
                handler=self.handler, host=s.host, port=s.port, scheme=s.scheme,
                username=username or "", password=password or "", splunkToken=token or "",
                app=app, owner=owner, autologin=True,
            )  # fmt: skip
            self.call("login", service.login)
            self.service = service
        return self.service

    def export(self, spl: str, action: str, **params: str) -> Any:
        """Start an export search; its answer as a stream (the caller closes it)."""
        service = self.session()
        return self.call(action, lambda: service.jobs.export(spl, **params))

    def call(self, action: str, call: Callable[[], _T]) -> _T:
        """Run a splunk-sdk call, retrying refused connections and 503 answers."""
        for attempt in range(self.settings.max_retries + 1):
            try:
                return call()
            except (OSError, self.binding.HTTPError) as exc:
                if attempt == self.settings.max_retries or not self._transient(exc):
                    raise self._translate(exc, action) from exc
                wait = retry_after(getattr(exc, "headers", None) or ())
                time.sleep(backoff(self.settings.retry_backoff, attempt, wait))
        raise AssertionError("unreachable")  # pragma: no cover

    def _transient(self, exc: Exception) -> bool:
        """503 and friends, refused or reset connections; not timeouts (a search may be
        slow rather than lost, and running it again would only add load)."""
        if isinstance(exc, self.binding.HTTPError):
            return int(exc.status) in TRANSIENT
        return isinstance(exc, ConnectionError)

    def _translate(self, exc: Exception, action: str) -> ConnectorError:
        """Turn a splunk-sdk error into a ConnectorError that says what to do."""
        url = self.url
        if isinstance(exc, self.binding.HTTPError):
            return self._http_problem(int(exc.status), _splunk_message(exc.body), action)
        if isinstance(exc, ssl.SSLError):
            return ConnectorError(tls_problem(url, exc))
        if isinstance(exc, TimeoutError):
            return ConnectorError(
                f"Splunk at {url} did not answer {action} within "
                f"timeout={self.settings.timeout:g} s: if splunkd is up and reachable (a "
                "firewall that drops packets looks the same), raise timeout= for long searches "
                "(with sort_by_time Splunk finishes the search before it sends the first result)"
            )
        return ConnectorError(
            f"cannot reach Splunk at {url} during {action} ({exc}): is splunkd running and "
            "the management URL (scheme, host, port 8089) right?"
        )

    def _http_problem(self, status: int, detail: str, action: str) -> ConnectorError:
        url = self.url
        if status == 401:
            how = "token=" if self._auth[2] else "username= and password="
            return ConnectorError(
                f"Splunk at {url} rejected the credentials (HTTP 401) during {action}: check {how}"
            )
        if status == 400:
            return ConnectorError(
                f"Splunk at {url} refused {action} (HTTP 400): {detail}; fix the SPL"
            )
        if status == 403:
            return ConnectorError(
                f"Splunk at {url} denied {action} (HTTP 403): {detail}; the user's "
                "role lacks the capability or index access"
            )
        if status in TRANSIENT:
            return ConnectorError(
                f"Splunk at {url} is busy (HTTP {status}) for {action} after "
                f"{self.settings.max_retries} retries: {detail}; try again later"
            )
        return ConnectorError(f"Splunk at {url}: {action} failed (HTTP {status}): {detail}")


def _splunk_message(body: bytes) -> str:
    """The first message of a splunkd error body (JSON or XML), clipped."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    try:
        messages = json.loads(text).get("messages") or []
        return str(messages[0].get("text", ""))[:300] if messages else text[:300]
    except (ValueError, AttributeError):
        pass
    found = re.search(r"<msg[^>]*>(.*?)</msg>", text, re.DOTALL)
    return (found.group(1).strip() if found else text.strip())[:300]
