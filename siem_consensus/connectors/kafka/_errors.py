"""Kafka connector failures: kafka-python errors as ConnectorErrors that say what to do.

kafka-python's bootstrap only reports a timeout, whatever went wrong; :meth:`Failures.connect`
listens to the connection failure it logs meanwhile (refused, TLS, SASL) and names it.
:meth:`Failures.call` and :meth:`Failures.translate` turn the errors of later calls into
messages with the action, the topic or group, and the fix; every message goes through
:meth:`Failures.error`, which masks the SASL password.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any, Final

from ...errors import ConnectorError
from ...models import WriteFailure
from ._settings import Settings

# What kafka-python logs when a connection attempt fails, e.g. "<KafkaConnection ...>:
# Connection lost: [Error 58] SaslAuthenticationFailedError: ..." or "Bootstrap connection to
# bootstrap-0 failed: KafkaConnectionError: 111 ECONNREFUSED (backoff 0.41 secs)".
_CAUSE: Final = re.compile(
    r"(?:Connection (?:lost|failed)|Bootstrap connection to \S+ failed): (?P<cause>.+?)"
    r"(?: \(backoff [0-9.]+ secs\))?$"
)
_ERROR_NAMES: Final = re.compile(r"^(?:\[Error -?[0-9]+\] )?(?:[A-Za-z]+(?:Error|Exception): )+")


def _plain(cause: str) -> str:
    """A logged cause without kafka-python's error class prefixes."""
    return _ERROR_NAMES.sub("", cause).strip() or cause


class _Causes(logging.Handler):
    """Keeps the last connection failure kafka-python logs while it is attached."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.last: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        match = _CAUSE.search(record.getMessage())
        if match:
            self.last = match["cause"]


@contextlib.contextmanager
def _watching() -> Iterator[_Causes]:
    handler = _Causes()
    logger = logging.getLogger("kafka")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def _release(exc: BaseException) -> None:
    """Close the network client of a kafka-python client whose constructor failed.

    kafka-python 3 starts its I/O thread and sockets before the bootstrap that may fail and does
    not stop them when it does; the half-built client is reachable only from the traceback.
    """
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_name == "__init__":
            local = frame.f_locals
            client = local.get("client") or getattr(local.get("self"), "_client", None)
            if client is not None:
                with contextlib.suppress(Exception):
                    client.close()
                return
        tb = tb.tb_next


def delivery_failure(doc_id: str, incident_id: str, exc: Exception) -> WriteFailure:
    """The failure of one message the producer could not deliver."""
    code = getattr(exc, "errno", None)
    detail = getattr(exc, "description", None) or _plain(str(exc))
    name = getattr(exc, "message", None)
    reason = f"{name} (error {code}): {detail}" if name and code is not None else detail
    return WriteFailure(
        doc_id=doc_id, incident_id=incident_id, error_type=type(exc).__name__, reason=reason
    )


class Failures:
    """Turns kafka-python errors into ConnectorErrors for one connector.

    Args:
        errors: The ``kafka.errors`` module.
        settings: The connector, read at the time of each message.
        secret: The SASL password, masked in every message.
    """

    def __init__(self, errors: Any, settings: Settings, secret: str | None) -> None:
        self._errors = errors
        self._settings = settings
        self._secret = secret

    def error(self, message: str) -> ConnectorError:
        """A ConnectorError whose message cannot carry the SASL password."""
        if self._secret:
            message = message.replace(self._secret, "***")
        return ConnectorError(message)

    def connect(self, factory: Callable[[], Any]) -> Any:
        """Build a client (it bootstraps at once), naming the cause when it cannot."""
        with _watching() as causes:
            try:
                return factory()
            except self._errors.KafkaTimeoutError as exc:
                _release(exc)
                raise self._unreachable(causes.last) from exc
            except self._errors.KafkaError as exc:
                _release(exc)
                raise self.translate(exc, "connecting to", self._settings.servers) from exc

    def call(self, action: str, where: str, method: Any, *args: Any, **kwargs: Any) -> Any:
        """``method(*args, **kwargs)``; a kafka-python error becomes a ConnectorError that
        names ``action`` and ``where`` (a topic, group or the servers)."""
        try:
            return method(*args, **kwargs)
        except self._errors.KafkaError as exc:
            raise self.translate(exc, action, where) from exc

    def translate(self, exc: Any, action: str, where: str) -> ConnectorError:
        """Turn a kafka-python error into a ConnectorError that says what to do."""
        errors, settings = self._errors, self._settings
        at = f"Kafka at {settings.servers}"
        if isinstance(exc, errors.TopicAuthorizationFailedError):
            return self.error(
                f"{at} denied {action} topic {where!r} (TOPIC_AUTHORIZATION_FAILED): grant "
                "this principal DESCRIBE and READ on the topics it reads, DESCRIBE and WRITE "
                "on the target topic"
            )
        if isinstance(exc, errors.GroupAuthorizationFailedError):
            return self.error(
                f"{at} denied consumer group {settings.group_id!r} (GROUP_AUTHORIZATION_FAILED): "
                "grant this principal READ on the group, or leave group_id unset"
            )
        if isinstance(exc, errors.SaslAuthenticationFailedError):
            return self._unreachable(str(exc))
        if isinstance(exc, errors.KafkaTimeoutError):
            return self.error(
                f"{at}: {action} {where!r} timed out after {settings.request_timeout:g} s: are "
                "the brokers that lead its partitions up? (raise request_timeout if slow)"
            )
        return self.error(f"{at}: {action} {where!r} failed: {_plain(str(exc))}")

    def _unreachable(self, cause: str | None) -> ConnectorError:
        settings = self._settings
        at = f"Kafka at {settings.servers}"
        detail = _plain(cause or "no answer")[:300]
        if cause and "SaslAuthenticationFailed" in cause:
            return self.error(
                f"{at} rejected the SASL {settings.sasl_mechanism} credentials ({detail}): check "
                "sasl_plain_username and sasl_plain_password"
            )
        if cause and "UnsupportedSaslMechanism" in cause:
            return self.error(
                f"{at} does not accept sasl_mechanism {settings.sasl_mechanism} ({detail}): use "
                "one the broker enables"
            )
        if cause and "Handshake failed" in cause:
            return self.error(
                f"TLS handshake with {at} failed ({detail}): check that the listener speaks "
                f"TLS (security_protocol is {settings.security_protocol}) and that ssl_cafile is "
                "the CA of the broker certificate"
            )
        return self.error(
            f"cannot reach {at} within {settings.connect_timeout:g} s ({detail}): is the broker "
            f"running, are bootstrap_servers (host:port) right, and does the listener speak "
            f"{settings.security_protocol}?"
        )
