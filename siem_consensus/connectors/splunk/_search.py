"""Reading for the Splunk connector: the SPL, the export stream line by line, result -> Event.

:func:`export_results` reads the ``output_mode=json`` lines of ``search/jobs/export`` as they
arrive (splunk-sdk's ``JSONResultsReader`` would read the whole answer first); :func:`to_event`
parses each result with :class:`~siem_consensus.parsers.splunk.SplunkParser`.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from pydantic import ValidationError

from ...errors import ConfigError, ConnectorError
from ...models import DeadLetter, Event
from ...parsers.base import LineError, _Skip, excerpt
from ...parsers.splunk import SplunkParser
from ._rest import SplunkRest

# Logged under the public module, where users configure the connector's logging.
_log = logging.getLogger("siem_consensus.connectors.splunk")

_SEARCH_START = re.compile(r"\s*(\||search(\s|$))", re.IGNORECASE)
_INDEX_TERM = re.compile(r'(?<![\w.])index\s*=\s*"?([\w][\w\-]*)"?(?=[\s)|]|$)', re.IGNORECASE)

Messages = list[tuple[str, str]]
"""Search messages Splunk sent: ``(type, text)``."""


class _BadLine(str):
    """An export line that is not a JSON object (kept for its dead letter)."""


def search_spl(query: Mapping[str, Any] | str | None, sort_by_time: bool) -> str:
    """The SPL to run for ``query``: ``search`` prepended as Splunk does, sorted by time."""
    if query is not None and not isinstance(query, str):
        raise ConfigError(
            "splunk: queries are SPL strings such as 'index=ids sourcetype=suricata', "
            f"not {type(query).__name__}"
        )
    text = (query or "").strip() or "*"
    if not _SEARCH_START.match(text):
        text = f"search {text}"
    return f"{text} | sort 0 _time" if sort_by_time else text


def time_range(start: datetime | None, end: datetime | None) -> dict[str, str]:
    """``earliest_time`` (inclusive) and ``latest_time`` (exclusive) as epoch seconds."""
    bounds: dict[str, str] = {}
    for key, value in (("earliest_time", start), ("latest_time", end)):
        if value is not None:
            aware = value if value.tzinfo else value.replace(tzinfo=UTC)
            bounds[key] = f"{aware.timestamp():.6f}".rstrip("0").rstrip(".")
    return bounds


def export_results(stream: Any, action: str, url: str, messages: Messages) -> Iterator[object]:
    """Final results of an export stream, one JSON line at a time.

    splunklib's ``JSONResultsReader`` calls ``readlines()`` on the whole response before
    yielding anything, so the lines are read here instead (same record shapes). Search
    messages are appended to ``messages``; a ``FATAL`` one raises ConnectorError.
    """
    for line in io.BufferedReader(stream):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            yield _BadLine(line.decode("utf-8", "replace").strip())
            continue
        for message in record.get("messages") or ():
            _note(message, action, url, messages)
        if record.get("preview") is True:
            continue  # provisional rows of a non-streaming search; the final rows follow
        if "result" in record:
            yield record["result"]
        yield from record.get("results") or ()


def _note(message: Mapping[str, Any], action: str, url: str, messages: Messages) -> None:
    kind, text = str(message.get("type", "INFO")), str(message.get("text", ""))
    messages.append((kind, text))
    if kind == "FATAL":
        raise ConnectorError(f"Splunk at {url} stopped {action}: {text}")
    level = logging.WARNING if kind in ("WARN", "ERROR") else logging.DEBUG
    _log.log(level, "Splunk %s during %s: %s", kind, action, text)


def to_event(parser: SplunkParser, n: int, result: object) -> Event | DeadLetter | _Skip:
    """The ``n``-th result as an Event, a dead letter saying why not, or SKIP (no event)."""
    reason: str
    try:
        if isinstance(result, _BadLine):
            raise LineError("export line is not a JSON object")
        if not isinstance(result, Mapping):
            raise LineError(f"result is {type(result).__name__}, not an object")
        row = parser.parse_result(result)
        if isinstance(row, _Skip):
            return row
        row["dataset"] = "splunk"
        return Event(event_id=f"splunk:{n}", **row)
    except (LineError, ValueError, KeyError, TypeError, IndexError) as exc:
        reason = str(exc) if isinstance(exc, LineError) else f"{type(exc).__name__}: {exc}"
        if isinstance(exc, ValidationError):
            reason = f"not a valid event: {exc.errors()[0]['msg']}"
    raw = result if isinstance(result, str) else json.dumps(result, default=str)
    return DeadLetter(
        source="splunk", line=n, reason=reason, raw_excerpt=excerpt(raw), parser="splunk"
    )


def lost_connection(
    exc: Exception, url: str, seen: int, action: str, timeout: float
) -> ConnectorError:
    """The error for a stream that broke off after ``seen`` results."""
    hint = f"raise timeout= (now {timeout:g} s)" if isinstance(exc, TimeoutError) else ""
    return ConnectorError(
        f"lost the connection to Splunk at {url} after {seen:,} results of "
        f"{action} ({exc or type(exc).__name__}): {hint or 'run it again'}; nothing "
        "after them was read (start= can resume from the last event's time)"
    )


def check_indexes(rest: SplunkRest, spl: str) -> None:
    """After an empty search: name an index it asks for that does not exist."""
    for name in sorted({m.group(1) for m in _INDEX_TERM.finditer(spl)}):
        try:
            response = rest.service.get(f"/services/data/indexes/{quote(name)}")
            response.body.read()
        except rest.binding.HTTPError as exc:
            if exc.status == 404:
                raise ConnectorError(
                    f"index {name!r} does not exist on Splunk at {rest.url}: check the name "
                    "('| eventcount summarize=false index=*' lists the indexes you can read)"
                ) from None
        except OSError:
            return  # best effort: the search itself worked


def run_search(
    rest: SplunkRest, messages: Messages, spl: str, action: str
) -> tuple[list[object], Messages]:
    """A small search: all its results, and the messages it produced."""
    stream = rest.export(spl, action, output_mode="json")
    first = len(messages)
    try:
        rows = list(export_results(stream, action, rest.url, messages))
    finally:
        stream.close()
    return rows, messages[first:]
