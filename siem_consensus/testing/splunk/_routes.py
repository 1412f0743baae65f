"""The replay server's routes: splunkd REST (login, server info, export, indexes) and HEC."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from ._wire import (
    _ASSIGN,
    _CHUNK_ROWS,
    _EXPORT,
    _HEC,
    _INDEX,
    _QUOTED,
    Answer,
    ExportItem,
    ExportQuery,
    Incoming,
    SearchMessage,
    _split_json,
    answer,
)

if TYPE_CHECKING:
    from . import SplunkReplayServer

__all__ = ["export_query", "hec", "rest"]


def rest(splunk: SplunkReplayServer, request: Incoming) -> Answer:
    values = splunk._values()
    if request.path == "/services/auth/login" and request.method == "POST":
        return _login(splunk, request, values)
    if not splunk._authenticated(request.headers):
        return answer("unauthenticated_401", values)
    if request.path == "/services/server/info" and request.method == "GET":
        return answer(splunk._fault("server_info") or "server_info_200", values)
    if (match := _INDEX.match(request.path)) and request.method == "GET":
        name = match.group(1)
        fault = splunk._fault("indexes")
        found = "data_indexes_200" if name in splunk.indexes else "data_indexes_404"
        return answer(fault or found, {**values, "index": name})
    if _EXPORT.match(request.path) and request.method == "POST":
        form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        fault = splunk._fault("export")
        return answer(fault, values) if fault else _export(splunk, export_query(form), values)
    return answer("not_found_404", values)


def _login(splunk: SplunkReplayServer, request: Incoming, values: Mapping[str, object]) -> Answer:
    fault = splunk._fault("login")
    if fault:
        return answer(fault, values)
    form = parse_qs(request.body.decode("utf-8", "replace"))
    user = form.get("username", [""])[0]
    password = form.get("password", [""])[0]
    ok = user == splunk.username and password == splunk._secrets.password
    return answer("auth_login_200" if ok else "auth_login_401", values)


def export_query(form: Mapping[str, list[str]]) -> ExportQuery:
    params = {key: value[0] for key, value in form.items() if value}
    return ExportQuery(
        search=params.get("search", ""),
        earliest_time=params.get("earliest_time"),
        latest_time=params.get("latest_time"),
        params=params,
    )


def _export(splunk: SplunkReplayServer, query: ExportQuery, values: Mapping[str, object]) -> Answer:
    if query.search.replace('\\"', "").count('"') % 2:
        return answer("export_400_unbalanced_quotes", values)
    if "sendalert notable" in query.search:
        if not splunk.enterprise_security:
            return answer("export_400_sendalert_unknown", values)
        fields = {k: v.replace('\\"', '"') for k, v in _ASSIGN.findall(query.search)}
        with splunk._lock:
            splunk.notables.append(fields)
        row = {"_time": "2026-01-18T16:30:00.000+00:00", **fields}
        return _streamed(values, iter([row]), None, splunk)
    if query.search.startswith("search index=notable"):
        ids = set(re.findall(r"siem_consensus_id=" + _QUOTED, query.search))
        with splunk._lock:
            known = sorted({n.get("siem_consensus_id", "") for n in splunk.notables} & ids)
        rows = ({"siem_consensus_id": key, "count": "1"} for key in known)
        return _streamed(values, rows, None, splunk)
    if splunk._results is None:
        return answer("export_200", values)
    return _streamed(values, iter(splunk._results(query)), splunk._pause_after, splunk)


def _streamed(
    values: Mapping[str, object],
    items: Iterator[ExportItem],
    pause_after: int | None,
    splunk: SplunkReplayServer,
) -> Answer:
    """The recorded export headers, and the body as a stream of export lines."""
    reply = answer("export_200", values)
    reply.body = b""
    reply.stream = _export_lines(items, pause_after, splunk)
    return reply


def _export_lines(
    items: Iterator[ExportItem],
    pause_after: int | None,
    splunk: SplunkReplayServer,
) -> Iterator[bytes]:
    """Export lines in item order, ``_CHUNK_ROWS`` a chunk; ``lastrow`` marks the last result.

    A result waits (with the messages after it) until the next result shows it is not last.
    """
    buffer: list[str] = []
    held: list[ExportItem] = []
    offset = 0
    for item in items:
        is_result = not isinstance(item, SearchMessage | str)
        if not is_result or not any(not isinstance(h, SearchMessage | str) for h in held):
            held.append(item)
            continue
        buffer.extend(_line(held, offset, last=False))
        offset += 1
        held = [item]
        pause = pause_after is not None and offset >= pause_after
        if len(buffer) >= _CHUNK_ROWS or pause:
            yield "\n".join(buffer).encode() + b"\n"
            buffer = []
        if pause:
            splunk.export_paused.set()
            splunk._resume.wait(10)
            pause_after = None
    buffer.extend(_line(held, offset, last=True))
    if buffer:
        yield "\n".join(buffer).encode() + b"\n"


def _line(held: list[ExportItem], offset: int, *, last: bool) -> Iterator[str]:
    """The held items as export lines: messages as they are, the result as a row."""
    for item in held:
        if isinstance(item, str):
            yield item
        elif isinstance(item, SearchMessage):
            message = {"type": item.type, "text": item.text}
            yield json.dumps({"preview": False, "messages": [message]})
        else:
            yield _row(offset, item, last=last)


def _row(offset: int, result: Mapping[str, Any], *, last: bool) -> str:
    row: dict[str, Any] = {"preview": False, "offset": offset}
    if last:
        row["lastrow"] = True
    row["result"] = result
    return json.dumps(row, separators=(",", ":"))


# -- HEC -------------------------------------------------------------------------------------------


def hec(splunk: SplunkReplayServer, request: Incoming) -> Answer:
    values = splunk._values(invalid_event_number=0)
    if request.path not in _HEC or request.method != "POST":
        return answer("not_found_404", values)
    auth = request.headers.get("authorization", "")
    if not auth:
        return answer("hec_401_token_required", values)
    scheme, _, token = auth.partition(" ")
    if scheme != "Splunk" or not token:
        return answer("hec_401_invalid_authorization", values)
    if token != splunk._secrets.hec_token:
        return answer("hec_403_invalid_token", values)
    if splunk.hec_token_disabled:
        return answer("hec_403_token_disabled", values)
    fault = splunk._fault("hec")
    if fault:
        return answer(fault, values)
    events, bad = _split_json(request.body.decode("utf-8", "replace"))
    if not events and bad is None:
        return answer("hec_400_no_data", values)
    for number, event in enumerate(events):
        problem = _hec_problem(event, splunk.indexes)
        if problem:
            return answer(problem, {**values, "invalid_event_number": number})
    if bad is not None:
        return answer("hec_400_invalid_data_format", {**values, "invalid_event_number": bad})
    with splunk._lock:  # HEC refuses a batch as a whole: nothing above was kept
        splunk.hec_events.extend(e for e in events if isinstance(e, dict))
    return answer("hec_200_success", values)


def _hec_problem(event: object, indexes: set[str]) -> str | None:
    if not isinstance(event, dict):
        return "hec_400_invalid_data_format"
    if "event" not in event:
        return "hec_400_event_field_required"
    if event["event"] in ("", None):
        return "hec_400_event_field_blank"
    index = event.get("index")
    if index is not None and index not in indexes:
        return "hec_400_incorrect_index"
    return None


# -- HTTP plumbing ---------------------------------------------------------------------------------
