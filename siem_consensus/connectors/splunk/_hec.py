"""Writing for the Splunk connector: decision documents as HTTP Event Collector events.

:func:`hec_item` wraps a decision document in a HEC event envelope; :class:`HecSender` posts them
in batches and acts on HEC's answer codes: token problems (1-4) raise, an event HEC points at
(``invalid-event-number``, or every event of an unknown index, code 7) becomes a failure and
the rest of the batch is sent again, busy answers are retried.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...errors import ConnectorError
from ...models import WriteFailure
from .._documents import DecisionDocument
from ._rest import TRANSIENT, backoff, retry_after, tls_problem

ID_FIELD = "siem_consensus_id"
"""Indexed HEC field (and notable field) holding the deterministic document id."""

_HEC_PATH = "/services/collector/event"
_HEC_TOKEN_CODES = {
    1: "Token disabled",
    2: "Token is required",
    3: "Invalid authorization",
    4: "Invalid token",
}
_HEC_INCORRECT_INDEX = 7
_MAX_BATCH_BYTES = 512 * 1024


@dataclass(frozen=True)
class HecItem:
    """One HEC event ready to send."""

    doc_id: str
    incident_id: str
    index: str | None
    line: bytes


def hec_item(doc: DecisionDocument, *, index: str | None, source: str, sourcetype: str) -> HecItem:
    """The HEC event of one decision document: the body as ``event``, the id as indexed field."""
    stamp = datetime.fromisoformat(str(doc.source["@timestamp"]))
    envelope: dict[str, Any] = {
        "time": round(stamp.timestamp(), 3),
        "source": source,
        "sourcetype": sourcetype,
    }
    if index:
        envelope["index"] = index
    envelope["event"] = doc.source
    envelope["fields"] = {ID_FIELD: doc.doc_id}
    line = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()
    return HecItem(doc.doc_id, doc.incident_id, index, line)


@dataclass(frozen=True)
class HecSender:
    """Posts events to one HEC endpoint with one token, retrying busy answers.

    Attributes:
        url: HEC base URL (``https://splunk.example:8088``).
        token: HEC token.
        channel: ``X-Splunk-Request-Channel`` of every request.
        handler: splunk-sdk HTTP handler (timeout and TLS settings).
        max_retries: Retries of a refused connection or a transient answer.
        retry_backoff: First retry delay in seconds, doubled at each retry.
    """

    url: str
    token: str = field(repr=False)
    channel: str
    handler: Any
    max_retries: int
    retry_backoff: float

    def send(self, items: list[HecItem], batch_size: int) -> tuple[int, list[WriteFailure]]:
        """Send ``items`` in batches: how many HEC accepted, and the refused ones."""
        written = 0
        failures: list[WriteFailure] = []
        for batch in _batches(items, batch_size):
            ok, refused = self._send(batch, written, len(items))
            written += ok
            failures.extend(refused)
        return written, failures

    def _send(self, batch: list[HecItem], done: int, total: int) -> tuple[int, list[WriteFailure]]:
        """POST one batch; events HEC points at are dropped and the rest sent again."""
        pending = list(batch)
        failures: list[WriteFailure] = []
        while pending:
            status, reply = self._post(pending, done, total)
            code = reply.get("code")
            if 200 <= status < 300 and code in (0, None):
                return len(pending), failures
            bad = reply.get("invalid-event-number")
            text = str(reply.get("text", ""))
            if status == 400 and isinstance(bad, int) and 0 <= bad < len(pending):
                refused = _refused(pending, bad, code)
                failures += [_failure(i, status, code, _hec_reason(code, text, i)) for i in refused]
                pending = [item for item in pending if item not in refused]
                continue
            reason = _hec_reason(code, text, None)
            failures += [_failure(item, status, code, reason) for item in pending]
            return 0, failures
        return 0, failures

    def _post(self, items: list[HecItem], done: int, total: int) -> tuple[int, dict[str, Any]]:
        body = b"\n".join(item.line for item in items)
        headers = [
            ("Authorization", f"Splunk {self.token}"),
            ("Content-Type", "application/json"),
            ("X-Splunk-Request-Channel", self.channel),
        ]
        url = self.url + _HEC_PATH
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            try:
                response = self.handler(url, {"method": "POST", "headers": headers, "body": body})
                raw = response["body"].read()
            except ssl.SSLError as exc:
                raise ConnectorError(tls_problem(self.url, exc)) from exc
            except OSError as exc:
                if last or not isinstance(exc, ConnectionError):
                    raise ConnectorError(
                        f"cannot reach the HTTP Event Collector at {self.url} ({exc}): is "
                        f"HEC enabled and hec_url (scheme, host, port 8088) right? {done:,} of "
                        f"{total:,} decisions were written before"
                    ) from exc
                time.sleep(backoff(self.retry_backoff, attempt, None))
                continue
            status, reply = int(response["status"]), _hec_reply(raw)
            if status in (401, 403) or reply.get("code") in _HEC_TOKEN_CODES:
                raise ConnectorError(_token_problem(self.url, status, reply, done, total))
            if status not in TRANSIENT or last:
                return status, reply
            time.sleep(backoff(self.retry_backoff, attempt, retry_after(response["headers"])))
        raise AssertionError("unreachable")  # pragma: no cover


def _batches(items: list[HecItem], size: int) -> Iterator[list[HecItem]]:
    batch: list[HecItem] = []
    weight = 0
    for item in items:
        if batch and (len(batch) >= size or weight + len(item.line) > _MAX_BATCH_BYTES):
            yield batch
            batch, weight = [], 0
        batch.append(item)
        weight += len(item.line) + 1
    if batch:
        yield batch


def _refused(pending: list[HecItem], bad: int, code: object) -> list[HecItem]:
    """The events a HEC error is about: the one it names, or all of its index (code 7)."""
    if code == _HEC_INCORRECT_INDEX:
        return [item for item in pending if item.index == pending[bad].index]
    return [pending[bad]]


def _failure(item: HecItem, status: int, code: object, reason: str) -> WriteFailure:
    return WriteFailure(
        doc_id=item.doc_id,
        incident_id=item.incident_id,
        status=status,
        error_type=f"hec_code_{code}" if code is not None else "hec",
        reason=reason,
    )


def _hec_reason(code: object, text: str, item: HecItem | None) -> str:
    if code == _HEC_INCORRECT_INDEX and item is not None:
        return (
            f"{text}: index {item.index!r} does not exist or is not among the HEC token's "
            "allowed indexes"
        )
    if code == 9 or code in (18, 19, 20):
        return f"{text}: HEC stayed busy through every retry; write the decisions again later"
    return text or "refused by HEC"


def _hec_reply(raw: bytes) -> dict[str, Any]:
    try:
        reply = json.loads(raw)
    except ValueError:
        return {"text": raw.decode("utf-8", "replace")[:200]}
    return reply if isinstance(reply, dict) else {"text": str(reply)[:200]}


def _token_problem(url: str, status: int, reply: Mapping[str, Any], done: int, total: int) -> str:
    code = reply.get("code")
    text = _HEC_TOKEN_CODES.get(code, str(reply.get("text", ""))) if isinstance(code, int) else ""
    return (
        f"the HTTP Event Collector at {url} refused the token (HTTP {status}, code {code} "
        f"{text or reply.get('text', '')}): check hec_token and that it is enabled (Settings > "
        f"Data inputs > HTTP Event Collector); {done:,} of {total:,} decisions were written"
    )
