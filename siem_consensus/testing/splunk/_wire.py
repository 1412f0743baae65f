"""The Splunk replay server's wire: recordings, requests as seen, and answers."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "Answer",
    "Endpoint",
    "Incoming",
    "Secrets",
    "answer",
    "ExportItem",
    "ExportQuery",
    "ExportResults",
    "Recording",
    "SearchMessage",
    "SplunkRequest",
    "splunk_result",
]

HOST = "127.0.0.1"
RECORDINGS = Path(__file__).with_name("recordings")
REDACTED = "<redacted>"

Endpoint = Literal["login", "server_info", "export", "indexes", "hec"]
_EXPORT = re.compile(r"^/services(?:NS/[^/]+/[^/]+)?/search/(?:v2/)?jobs/export$")
_INDEX = re.compile(r"^/services(?:NS/[^/]+/[^/]+)?/data/indexes/([^/]+)$")
_HEC = ("/services/collector", "/services/collector/event", "/services/collector/event/1.0")
_QUOTED = r'"((?:[^"\\]|\\.)*)"'
_ASSIGN = re.compile(r"([\w.]+)\s*=\s*" + _QUOTED)
_CHUNK_ROWS = 500


@dataclass(frozen=True)
class Recording:
    """One recorded response: status, headers and body, with ``{{name}}`` placeholders."""

    name: str
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: str

    @classmethod
    def load(cls, name: str) -> Recording:
        """Read ``recordings/{name}.json`` (and its ``body_file``)."""
        data = json.loads((RECORDINGS / f"{name}.json").read_text(encoding="utf-8"))
        response = data["response"]
        body = response.get("body")
        if body is None:
            body = (RECORDINGS / response["body_file"]).read_text(encoding="utf-8")
        headers = tuple((str(k), str(v)) for k, v in response["headers"])
        return cls(name, int(response["status"]), str(response["reason"]), headers, body)

    def render(self, **values: object) -> tuple[list[tuple[str, str]], bytes]:
        """Headers and body with the placeholders filled in."""
        return (
            [(k, _fill(v, values)) for k, v in self.headers],
            _fill(self.body, values).encode("utf-8"),
        )


def _fill(text: str, values: Mapping[str, object]) -> str:
    return re.sub(r"\{\{(\w+)\}\}", lambda m: str(values[m.group(1)]), text)


@dataclass(frozen=True)
class SplunkRequest:
    """A request the server received, secrets redacted.

    Attributes:
        server: ``rest`` (splunkd management port) or ``hec`` (HTTP Event Collector).
        method: HTTP method.
        path: URL path without the query string.
        query: Query string parameters.
        form: Form fields of a url-encoded body (``password`` redacted).
        headers: Headers by lower-case name (``authorization`` and ``cookie`` redacted).
        body: The body as text (HEC batches verbatim; form bodies redacted).
        status: Status of the answer.
    """

    server: Literal["rest", "hec"]
    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    headers: dict[str, str]
    body: str
    status: int

    @property
    def hec_events(self) -> list[dict[str, Any]]:
        """The JSON event objects of a HEC batch body, in order."""
        events, _ = _split_json(self.body)
        return [event for event in events if isinstance(event, dict)]


@dataclass(frozen=True)
class SearchMessage:
    """A search message line of the export stream (``{"messages": [...]}``)."""

    type: str
    text: str


@dataclass(frozen=True)
class ExportQuery:
    """The parameters of one export search, as received."""

    search: str
    earliest_time: str | None
    latest_time: str | None
    params: dict[str, str]


ExportItem = Mapping[str, Any] | SearchMessage | str
"""A ``result`` object, a search message, or a line sent verbatim (to test broken lines)."""

ExportResults = Callable[[ExportQuery], Iterable[ExportItem]]
"""Makes the results of an export search, in stream order."""


def splunk_result(
    raw: str,
    *,
    time: str,
    sourcetype: str,
    host: str = "splunk-fwd01",
    source: str = "udp:514",
    index: str = "main",
    serial: int = 0,
    indextime: int = 1768746300,
) -> dict[str, Any]:
    """One export ``result`` object from the recorded template (``_raw``, ``_time``, ...).

    Args:
        raw: The event text (``_raw``).
        time: ``_time`` as splunkd renders it, e.g. ``2026-01-18T14:25:00.000+00:00``.
        sourcetype: Source type (``suricata``, ``cisco:asa``, ...).
        host: ``host`` field.
        source: ``source`` field.
        index: Index the event lives in.
        serial: Position in the result set (``_serial``, also used for ``_cd``).
        indextime: ``_indextime`` (epoch seconds).
    """
    values = {
        "raw": raw, "time": time, "sourcetype": sourcetype, "host": host, "source": source,
        "index": index, "serial": serial, "indextime": indextime,
    }  # fmt: skip
    return {
        key: [_fill(v, values) for v in value] if isinstance(value, list) else _fill(value, values)
        for key, value in _template().items()
    }


@functools.cache
def _template() -> dict[str, Any]:
    data = json.loads((RECORDINGS / "export_result_template.json").read_text(encoding="utf-8"))
    template: dict[str, Any] = data["result"]
    return template


@dataclass(frozen=True)
class Secrets:
    password: str
    token: str | None
    hec_token: str | None
    session_key: str

    def redact_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        out = {}
        for name, value in headers.items():
            if name in ("authorization", "cookie"):
                value = re.sub(r"(Splunk|Bearer|Basic)\s+\S+", rf"\1 {REDACTED}", value)
                value = re.sub(r"(splunkd_\d+)=[^;\s]+", rf"\1={REDACTED}", value)
            out[name] = value
        return out


@dataclass
class Incoming:
    server: Literal["rest", "hec"]
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    stream: Iterator[bytes] | None = None


def answer(name: str, values: Mapping[str, object]) -> Answer:
    recording = Recording.load(name)
    headers, body = recording.render(**values)
    return Answer(recording.status, recording.reason, headers, body)


# -- REST ------------------------------------------------------------------------------------------


def _split_json(text: str) -> tuple[list[object], int | None]:
    """Concatenated JSON values (HEC batches); the position of the first undecodable one."""
    decoder = json.JSONDecoder()
    values: list[object] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return values, None
        try:
            value, position = decoder.raw_decode(text, position)
        except ValueError:
            return values, len(values)
        values.append(value)
