"""Splunk connector driven through the real splunk-sdk against recorded REST/HEC exchanges.

Splunk cannot run here: :class:`SplunkReplayServer` (127.0.0.1, ephemeral ports) answers
splunk-sdk's login, server-info, export and index calls and the HEC endpoint from recordings
of Splunk's documented wire formats, and keeps every request (secrets redacted).
"""

from __future__ import annotations

import functools
import json
import random
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from siem_consensus import (
    ConnectorError,
    MissingDependencyError,
    analyze_firewall,
    correlate_ids_alerts,
)
from siem_consensus.connectors import CONNECTORS, ConnectorConfig, get_connector
from siem_consensus.connectors._documents import decision_documents
from siem_consensus.errors import ConfigError
from siem_consensus.generators.firewall import DEFAULT_NOW, asa_deny, scenario_1
from siem_consensus.generators.ids import scenario_2
from siem_consensus.models import Outcome
from siem_consensus.report import IdsReport, Report
from siem_consensus.testing.splunk import (
    ExportQuery,
    SearchMessage,
    SplunkReplayServer,
    splunk_result,
)

pytest.importorskip("splunklib")
from siem_consensus.connectors.splunk import SplunkConnector  # noqa: E402

PASSWORD = "pw-Zq81-not-in-logs"
BEARER = "bearer-7f3e9a-not-in-logs"
HEC_TOKEN = "11111111-2222-3333-4444-hec-not-in-logs"
N_RESULTS = 20_000
START = DEFAULT_NOW - timedelta(hours=7)
END = DEFAULT_NOW + timedelta(minutes=1)
BROKEN_ASA = "Jan 18 14:33:18 firewall %ASA-4-106023: Deny tcp src outside:45.95.168"

Row = tuple[datetime, str, str, str, str]  # time, _raw, sourcetype, host, index


def _written(report: Report) -> list[dict[str, Any]]:
    """The documents a connector writes for the report, each with its ``_id``."""
    return [{"_id": d.doc_id, **d.source} for d in decision_documents(report)[0]]


@pytest.fixture
def splunk() -> Iterator[SplunkReplayServer]:
    with SplunkReplayServer(password=PASSWORD, token=BEARER, hec_token=HEC_TOKEN) as server:
        yield server


def _connector(server: SplunkReplayServer, **kwargs: Any) -> SplunkConnector:
    settings: dict[str, Any] = {
        "username": "admin",
        "password": PASSWORD,
        "hec_url": server.hec_url,
        "hec_token": HEC_TOKEN,
        "retry_backoff": 0.01,
    }
    settings.update(kwargs)
    if "token" in kwargs:
        settings.pop("username")
        settings.pop("password")
    return SplunkConnector(server.url, **settings)


def _splunk_time(ts: datetime) -> str:
    return f"{ts:%Y-%m-%dT%H:%M:%S}.{ts.microsecond // 1000:03d}+00:00"


def _asa_time(line: str) -> datetime:
    return datetime.strptime(f"2026 {line[:15]}", "%Y %b %d %H:%M:%S").replace(tzinfo=UTC)


@functools.cache
def _mixed_rows() -> tuple[Row, ...]:
    """Suricata EVE (scenario 2) + ASA (scenario 1 and noise): 20,000 results, oldest first."""
    rows: list[Row] = []
    for line in scenario_2(7):
        ts = datetime.strptime(json.loads(line)["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
        rows.append((ts, line, "suricata", "ids01", "ids"))
    for line in scenario_1(7):
        rows.append((_asa_time(line), line, "cisco:asa", "firewall", "fw"))
    rng = random.Random(11)
    start = DEFAULT_NOW - timedelta(hours=6)
    for i in range(N_RESULTS - len(rows) - 1):  # one source each: background, no incident
        ts = start + timedelta(seconds=i * 1.5 + rng.random())
        src = ("outside", f"198.18.{i // 250}.{i % 250 + 1}", rng.randint(1024, 65535))
        dst = ("inside", f"10.2.{rng.randint(0, 9)}.{rng.randint(1, 250)}", 3389)
        rows.append((ts, asa_deny(ts, "tcp", src, dst, "outside_in"), "cisco:asa", "fw2", "fw"))
    rows.append((_asa_time(BROKEN_ASA), BROKEN_ASA, "cisco:asa", "firewall", "fw"))
    rows.sort(key=lambda row: row[0])
    return tuple(rows)


def _results(rows: tuple[Row, ...], *, table_row_at: int | None = None) -> Any:
    """An export factory: the rows as Splunk results (a table row without _raw instead of
    the row at ``table_row_at``)."""

    def make(query: ExportQuery) -> Iterator[dict[str, Any] | SearchMessage]:
        yield SearchMessage("INFO", f"Search finished: found {len(rows):,} events")
        for serial, (ts, raw, sourcetype, host, index) in enumerate(rows):
            if serial == table_row_at:
                yield {"src_ip": "45.95.168.200", "count": "12", "_time": _splunk_time(ts)}
                continue
            yield splunk_result(raw, time=_splunk_time(ts), sourcetype=sourcetype, host=host,
                                index=index, serial=serial)  # fmt: skip

    return make


@functools.cache
def _report() -> IdsReport:
    """Scenario 2 correlated once: one alert (the multi-stage attack), five dismissed."""
    return correlate_ids_alerts(scenario_2(7), input_format="suricata")


# -- reading ---------------------------------------------------------------------------------------


def test_streams_20000_mixed_results_into_events(splunk: SplunkReplayServer) -> None:
    rows = _mixed_rows()
    splunk.serve_results(_results(rows, table_row_at=10_000))
    kept = rows[:10_000] + rows[10_001:]
    siem = _connector(splunk)
    started = time.perf_counter()
    events = list(siem.iter_events("index=ids OR index=fw", start=START, end=END))
    print(f"{N_RESULTS:,} results in {time.perf_counter() - started:.1f} s")

    assert len(events) + len(siem.dead_letters) == N_RESULTS
    assert len(events) == N_RESULTS - 1
    assert [e.event_id for e in events[:2]] == ["splunk:1", "splunk:2"]
    assert {e.dataset for e in events} == {"splunk"}
    codes = [e.event_code for e in events]
    suricata = sum(1 for row in kept if row[2] == "suricata")
    assert codes.count("alert") == suricata > 4_000  # Suricata EVE, by the suricata parser
    assert codes.count("ASA-4-106023") == len(kept) - suricata - 1  # ASA, by the asa parser
    seconds = [e.timestamp.replace(microsecond=0) for e in events if e.timestamp]
    assert len(seconds) == len(events) and seconds == sorted(seconds)  # oldest first
    broken = [e for e in events if e.message == BROKEN_ASA]
    assert broken and broken[0].event_code is None  # unparseable _raw: kept, as its text
    [dead] = siem.dead_letters
    assert (dead.source, dead.line, dead.parser) == ("splunk", 10_001, "splunk")
    assert "no _raw field" in dead.reason and "45.95.168.200" in dead.raw_excerpt
    assert ("INFO", "Search finished: found 20,000 events") in siem.messages


def test_time_bounds_search_and_namespace_on_the_wire(splunk: SplunkReplayServer) -> None:
    splunk.serve_results(_results(_mixed_rows()[:3]))
    naive_start = datetime(2026, 1, 18, 10, 0)  # naive: UTC
    end = datetime(2026, 1, 18, 16, 31, 0, 500_000, tzinfo=UTC)
    siem = _connector(splunk)
    assert len(list(siem.iter_events("index=ids", start=naive_start, end=end))) == 3
    [search] = splunk.searches()
    assert search.search == "search index=ids | sort 0 _time"
    assert (search.earliest_time, search.latest_time) == ("1768730400", "1768753860.5")
    assert search.params["output_mode"] == "json"
    export = [r for r in splunk.requests if r.path.endswith("/export")]
    assert [r.path for r in export] == ["/services/search/v2/jobs/export"]  # Splunk >= 9.0.2
    assert export[0].headers["cookie"].endswith("=<redacted>")  # the session cookie of login


@pytest.mark.parametrize(
    ("query", "sort", "sent"),
    [
        (None, True, "search * | sort 0 _time"),
        ("index=fw action=blocked", True, "search index=fw action=blocked | sort 0 _time"),
        ("  search index=fw", False, "search index=fw"),
        ("SEARCH index=fw", False, "SEARCH index=fw"),
        ("| tstats count where index=fw", False, "| tstats count where index=fw"),
        ("searching", False, "search searching"),
    ],
)
def test_search_prefix(
    splunk: SplunkReplayServer, query: str | None, sort: bool, sent: str
) -> None:
    splunk.serve_results(lambda _: iter(()))
    siem = _connector(splunk, sort_by_time=sort)
    assert list(siem.iter_events(query)) == []
    assert splunk.searches()[0].search == sent


def test_results_are_streamed_not_buffered(splunk: SplunkReplayServer) -> None:
    splunk.serve_results(_results(_mixed_rows()[:5_000]), pause_after=1_000)
    events = _connector(splunk).iter_events("index=fw")
    started = time.perf_counter()
    first = next(events)  # a buffering reader would wait for the server's 10 s resume timeout
    assert first.event_id == "splunk:1" and time.perf_counter() - started < 5
    assert splunk.export_paused.wait(5)  # the server holds back 4,000 results meanwhile
    splunk.resume_export()
    assert sum(1 for _ in events) == 4_999


def test_splunklib_json_reader_still_buffers_the_whole_stream(
    splunk: SplunkReplayServer,
) -> None:
    """Why the connector reads the lines itself: ``JSONResultsReader`` calls ``readlines()``.

    If splunk-sdk ever streams, this canary fails and the reader can be used again.
    """
    results = pytest.importorskip("splunklib.results")
    client = pytest.importorskip("splunklib.client")
    splunk.serve_results(_results(_mixed_rows()[:3_000]), pause_after=1_000)
    port = int(splunk.url.rsplit(":", 1)[1])
    service = client.connect(host="127.0.0.1", port=port, scheme="http", username="admin",
                             password=PASSWORD)  # fmt: skip
    stream = service.jobs.export("search index=fw", output_mode="json")
    got: list[object] = []
    reader = threading.Thread(target=lambda: got.extend(results.JSONResultsReader(stream)))
    reader.start()
    assert splunk.export_paused.wait(5)
    time.sleep(0.3)
    assert got == []  # nothing yet although 1,000 results were sent
    splunk.resume_export()
    reader.join()
    stream.close()
    assert sum(isinstance(item, dict) for item in got) == 3_000


def test_unknown_index_is_named(splunk: SplunkReplayServer) -> None:
    splunk.serve_results(lambda _: iter(()))
    siem = _connector(splunk)
    with pytest.raises(ConnectorError, match=r"index 'nosuch' does not exist on Splunk"):
        list(siem.iter_events('index=nosuch OR index="ids"'))
    assert list(siem.iter_events("index=ids")) == []  # exists, just empty


def test_search_messages(splunk: SplunkReplayServer) -> None:
    def stream(_: ExportQuery) -> Iterator[Any]:
        yield SearchMessage("WARN", "Search auto-finalized after time limit (30 seconds)")
        eve = next(row[1] for row in _mixed_rows() if row[2] == "suricata")
        yield splunk_result(eve, time=_splunk_time(START), sourcetype="suricata")
        yield SearchMessage("FATAL", "Search process did not exit cleanly")

    splunk.serve_results(stream)
    siem = _connector(splunk)
    events = siem.iter_events("index=ids")
    assert next(events).event_code == "alert"
    with pytest.raises(ConnectorError, match="stopped the search .*did not exit cleanly"):
        next(events)
    assert siem.messages[0] == ("WARN", "Search auto-finalized after time limit (30 seconds)")


def test_broken_export_line_is_a_dead_letter(splunk: SplunkReplayServer) -> None:
    eve = next(row[1] for row in _mixed_rows() if row[2] == "suricata")
    good = splunk_result(eve, time=_splunk_time(START), sourcetype="suricata")
    splunk.serve_results(lambda _: iter([good, '{"preview":false,"offset":1,"result":{"_ra', good]))
    siem = _connector(splunk)
    assert [e.event_id for e in siem.iter_events("index=ids")] == ["splunk:1", "splunk:3"]
    [dead] = siem.dead_letters
    assert (dead.line, dead.reason) == (2, "export line is not a JSON object")
    assert dead.raw_excerpt.startswith('{"preview":false,"offset":1')


def test_stalled_stream_times_out(splunk: SplunkReplayServer) -> None:
    splunk.serve_results(_results(_mixed_rows()[:500]), pause_after=200)
    events = _connector(splunk, timeout=0.3).iter_events("index=fw")
    with pytest.raises(ConnectorError, match=r"raise timeout= \(now 0.3 s\)") as caught:
        list(events)
    found = re.search(r"after (\d+) results", str(caught.value))
    assert found and 100 < int(found.group(1)) <= 200  # arrived (in 8 KiB reads) before the stall
    splunk.resume_export()


def test_splunk_8_uses_the_v1_export_endpoint() -> None:
    with SplunkReplayServer(password=PASSWORD, version="8.2.12") as server:
        assert list(_connector(server).iter_events("index=ids"))
        assert [r.path for r in server.requests if r.path.endswith("export")] == [
            "/services/search/jobs/export"
        ]


# -- round trip ------------------------------------------------------------------------------------


def test_ids_round_trip_through_hec(splunk: SplunkReplayServer) -> None:
    rows = tuple(row for row in _mixed_rows() if row[4] == "ids")
    splunk.serve_results(_results(rows))
    siem = _connector(splunk, index="security", batch_size=4)
    report = correlate_ids_alerts(siem.iter_events("index=ids", start=START, end=END))
    assert report.input.events == len(rows) == 4_500
    alerts = [i for i in report.incidents if report.decision_for(i.id).outcome is Outcome.ALERT]
    assert [i.entities.source_ips[0] for i in alerts] == ["185.220.101.45"]

    result = siem.write_decisions(report)
    assert result.ok and result.connector == "splunk"
    assert result.attempted == result.created == len(report.decisions) > 4
    assert result.target.startswith("security via http://127.0.0.1:")

    docs = _written(report)
    hec = [r for r in splunk.requests if r.server == "hec"]
    assert len(hec) == -(-len(docs) // 4)  # batches of 4
    sent = [event for request in hec for event in request.hec_events]
    assert sent == splunk.hec_events
    assert [e["fields"]["siem_consensus_id"] for e in sent] == [d["_id"] for d in docs]
    assert [e["event"] for e in sent] == [
        {k: v for k, v in d.items() if k != "_id"} for d in docs
    ]  # the decision documents every connector writes
    assert {(e["index"], e["sourcetype"], e["source"]) for e in sent} == {
        ("security", "siem_consensus:decision", "siem_consensus")
    }
    assert all(isinstance(e["time"], float) for e in sent)
    assert hec[0].path == "/services/collector/event"
    assert hec[0].headers["authorization"] == "Splunk <redacted>"
    assert hec[0].headers["content-type"] == "application/json"

    again = siem.write_decisions(report)  # HEC cannot upsert: same ids, new events
    assert again.created == result.created
    ids = [e["fields"]["siem_consensus_id"] for e in splunk.hec_events]
    assert ids == [d["_id"] for d in docs] * 2


def test_firewall_search_as_source_and_sink(splunk: SplunkReplayServer) -> None:
    rows = tuple(row for row in _mixed_rows() if row[3] == "firewall")
    splunk.serve_results(_results(rows))
    siem = _connector(splunk)
    report = analyze_firewall(siem.search("index=fw host=firewall"), sinks=[siem])
    assert report.input.events == len(rows)
    assert any("45.95.168.200" in i.entities.source_ips for i in report.incidents)
    [delivery] = report.deliveries
    assert delivery.ok and delivery.connector == "splunk"
    assert delivery.written == len(report.decisions) == len(splunk.hec_events)


def test_report_accounts_skipped_records_and_dead_letters(splunk: SplunkReplayServer) -> None:
    eve = [json.loads(line) for line in scenario_2(7)][:50]
    stats = {"timestamp": eve[0]["timestamp"], "event_type": "stats", "stats": {"uptime": 9}}
    lines = [json.dumps(stats), *map(json.dumps, eve), json.dumps(stats)]
    rows = tuple(
        (datetime.strptime(json.loads(line)["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z"), line,
         "suricata", "ids01", "ids")
        for line in lines
    )  # fmt: skip
    splunk.serve_results(_results(rows, table_row_at=10))
    siem = _connector(splunk)
    report = correlate_ids_alerts(siem.search("index=ids"))
    # 52 results: 49 events, 1 dead letter (the table row), 2 stats records without an event.
    assert (siem.skipped, len(siem.dead_letters)) == (2, 1)
    stats_in = report.input
    assert (stats_in.lines, stats_in.events, stats_in.dead_letters) == (52, 49, 1)
    assert stats_in.skipped_lines == 2


def test_sink_without_hec_token_keeps_the_report(splunk: SplunkReplayServer) -> None:
    rows = tuple(row for row in _mixed_rows() if row[3] == "firewall")
    splunk.serve_results(_results(rows))
    siem = _connector(splunk, hec_token=None)  # search-only: cannot write
    report = analyze_firewall(siem.search("index=fw host=firewall"), sinks=[siem])
    [delivery] = report.deliveries
    assert report.decisions and delivery.attempted == len(report.decisions)
    assert {f.reason for f in delivery.failures} == {
        "splunk: writing decisions needs hec_token= (an HEC token)"
    }


def test_notables_for_alerts_once(splunk: SplunkReplayServer) -> None:
    report = _report()
    alerts = [d for d in report.decisions if d.outcome is Outcome.ALERT]
    siem = _connector(splunk, notable=True)

    first = siem.write_decisions(report)
    assert first.ok and first.target.endswith("+ notable (Splunk ES)")
    assert first.attempted == len(report.decisions) + len(alerts)
    assert first.created == first.attempted and first.updated == 0
    [notable] = splunk.notables
    alert_doc = next(d for d in _written(report) if d["event"]["kind"] == "alert")
    assert notable["siem_consensus_id"] == alert_doc["_id"]
    assert notable["param.rule_title"] == alert_doc["rule"]["name"]
    assert (notable["param.severity"], notable["param.security_domain"]) == (
        "critical",
        "network",
    )
    sendalert = [s.search for s in splunk.searches() if "sendalert" in s.search]
    assert sendalert[0].startswith("| makeresults | eval siem_consensus_id=")
    assert 'src=split("185.220.101.45", ",")' in sendalert[0]

    second = siem.write_decisions(report)  # the notable exists: not created twice
    assert second.ok and second.updated == len(alerts) and len(splunk.notables) == 1


def test_notable_without_enterprise_security_is_a_failure() -> None:
    report = _report()
    with SplunkReplayServer(
        password=PASSWORD, hec_token=HEC_TOKEN, enterprise_security=False
    ) as server:
        result = _connector(server, notable=True).write_decisions(report)
    [failure] = result.failures
    assert failure.error_type == "notable" and failure.incident_id
    assert "sendalert" in failure.reason and 'Alert action "notable" not found' in failure.reason
    assert result.created == len(report.decisions)  # the HEC events were written


# -- faults ----------------------------------------------------------------------------------------


def test_wrong_password(splunk: SplunkReplayServer) -> None:
    siem = _connector(splunk, password="wrong-" + PASSWORD)
    with pytest.raises(ConnectorError, match="rejected the credentials.*username= and password="):
        list(siem.iter_events("index=ids"))
    assert [r.status for r in splunk.requests] == [401]  # no retry of a refused login


def test_bearer_token(splunk: SplunkReplayServer) -> None:
    assert list(_connector(splunk, token=BEARER).iter_events("index=ids"))
    assert {r.headers["authorization"] for r in splunk.requests} == {"Bearer <redacted>"}
    assert not any(r.path == "/services/auth/login" for r in splunk.requests)
    with pytest.raises(ConnectorError, match=r"rejected the credentials \(HTTP 401\).*token="):
        list(_connector(splunk, token="expired").iter_events("index=ids"))


def test_search_syntax_error(splunk: SplunkReplayServer) -> None:
    with pytest.raises(ConnectorError, match=r"refused the search.*HTTP 400.*Unbalanced quotes"):
        list(_connector(splunk).iter_events('index=fw action="blocked'))


def test_busy_search_head_is_retried(splunk: SplunkReplayServer) -> None:
    splunk.fail_next("export", "export_503_busy", times=2)
    assert len(list(_connector(splunk).iter_events("index=ids"))) == 2
    assert [r.status for r in splunk.requests if r.path.endswith("export")] == [503, 503, 200]
    splunk.fail_next("export", "export_503_busy", times=9)
    with pytest.raises(ConnectorError, match=r"busy \(HTTP 503\).*after 1 retries"):
        list(_connector(splunk, max_retries=1).iter_events("index=ids"))


def test_hec_invalid_token(splunk: SplunkReplayServer) -> None:
    siem = _connector(splunk, hec_token="not-the-token")
    with pytest.raises(ConnectorError, match=r"refused the token \(HTTP 403, code 4 Invalid token"):
        siem.write_decisions(_report())


def test_hec_disabled_token() -> None:
    server = SplunkReplayServer(hec_token=HEC_TOKEN, hec_token_disabled=True)
    with server, pytest.raises(ConnectorError, match=r"code 1 Token disabled.*0 of \d+ decisions"):
        _connector(server).write_decisions(_report())


def test_hec_busy_then_accepted(splunk: SplunkReplayServer) -> None:
    splunk.fail_next("hec", "hec_503_server_busy", times=2)
    result = _connector(splunk).write_decisions(_report())
    assert result.ok and result.created == result.attempted
    assert [r.status for r in splunk.requests if r.server == "hec"] == [503, 503, 200]


def test_hec_busy_throughout_fails_the_batch(splunk: SplunkReplayServer) -> None:
    splunk.fail_next("hec", "hec_503_server_busy", times=3)
    result = _connector(splunk, max_retries=2).write_decisions(_report())
    assert result.created == 0 and len(result.failures) == result.attempted
    failure = result.failures[0]
    assert (failure.status, failure.error_type) == (503, "hec_code_9")
    assert "busy through every retry" in failure.reason


def test_hec_refused_event_is_reported_and_the_rest_sent(splunk: SplunkReplayServer) -> None:
    splunk.fail_next("hec", "hec_400_invalid_data_format")  # invalid-event-number 0
    report = _report()
    result = _connector(splunk).write_decisions(report)
    [failure] = result.failures
    first = _written(report)[0]
    assert (failure.doc_id, failure.status, failure.error_type) == (first["_id"], 400, "hec_code_6")
    assert failure.reason == "Invalid data format"
    assert result.created == result.attempted - 1 == len(splunk.hec_events)


def test_hec_unknown_index(splunk: SplunkReplayServer) -> None:
    result = _connector(splunk, index="no_such_index").write_decisions(_report())
    assert result.created == 0 and len(result.failures) == result.attempted
    assert {f.error_type for f in result.failures} == {"hec_code_7"}
    assert "index 'no_such_index' does not exist or is not among the HEC token's allowed" in (
        result.failures[0].reason
    )


def test_decision_without_incident_is_a_failure(splunk: SplunkReplayServer) -> None:
    report = _report()
    orphan = report.decisions[0].model_copy(update={"incident_id": "ids-missing"})
    broken = report.model_copy(update={"decisions": (*report.decisions, orphan)})
    result = _connector(splunk).write_decisions(broken)
    [failure] = result.failures
    assert (failure.incident_id, failure.error_type) == ("ids-missing", "incident_not_in_report")
    assert result.attempted == len(broken.decisions) == result.created + 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_unreachable_host() -> None:
    port = _closed_port()
    siem = SplunkConnector(f"http://127.0.0.1:{port}", username="admin", password=PASSWORD,
                           hec_token=HEC_TOKEN, max_retries=1, retry_backoff=0.01)  # fmt: skip
    with pytest.raises(ConnectorError, match=rf"cannot reach Splunk at http://127.0.0.1:{port}"):
        list(siem.iter_events("index=ids"))
    with pytest.raises(ConnectorError, match=r"cannot reach the HTTP Event Collector.*:8088"):
        siem.write_decisions(_report())


def test_secrets_never_recorded_or_in_errors(splunk: SplunkReplayServer) -> None:
    messages = []
    for kwargs in ({"password": "wrong-" + PASSWORD}, {"hec_token": HEC_TOKEN + "x"}):
        with pytest.raises(ConnectorError) as caught:
            siem = _connector(splunk, **kwargs)
            list(siem.iter_events("index=ids"))
            siem.write_decisions(_report())
        messages.append(str(caught.value))
    siem = _connector(splunk, notable=True)
    list(siem.iter_events("index=ids"))
    siem.write_decisions(_report())
    list(_connector(splunk, token=BEARER).iter_events("index=ids"))
    recorded = repr(splunk.requests)
    session_key = splunk._secrets.session_key
    for secret in (PASSWORD, BEARER, HEC_TOKEN, session_key):
        assert secret not in recorded
        assert not any(secret in message for message in messages)
    assert "<redacted>" in recorded and "/services/auth/login" in recorded


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_tls_verification(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=splunk",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    with SplunkReplayServer(password=PASSWORD, hec_token=HEC_TOKEN, tls=(str(cert), str(key))) as s:
        assert s.url.startswith("https://")
        with pytest.raises(ConnectorError, match="TLS failed with Splunk.*pass ca_certs="):
            list(_connector(s).iter_events("index=ids"))
        trusted = _connector(s, ca_certs=str(cert))
        assert len(list(trusted.iter_events("index=ids"))) == 2
        assert trusted.write_decisions(_report()).ok
        assert len(list(_connector(s, verify=False).iter_events("index=ids"))) == 2


# -- settings --------------------------------------------------------------------------------------


def test_from_settings_builds_it(splunk: SplunkReplayServer) -> None:
    assert get_connector("splunk") is SplunkConnector and CONNECTORS["splunk"] is SplunkConnector
    table = {"host": "127.0.0.1", "port": int(splunk.url.rsplit(":", 1)[1]), "scheme": "http",
             "username": "admin", "password": PASSWORD, "hec_url": splunk.hec_url,
             "hec_token": HEC_TOKEN, "index": "security", "batch_size": 50, "notable": False,
             "verify": True, "timeout": 5.0}  # fmt: skip
    siem = SplunkConnector.from_settings(table)
    assert isinstance(siem, SplunkConnector) and siem.url == splunk.url
    assert len(list(siem.iter_events("index=ids"))) == 2
    config = ConnectorConfig.from_mapping(
        {"connectors": {"prod": {"type": "splunk", **table, "password": "${SPLUNK_PW}"}}}
    )
    built = config.create("prod", environ={"SPLUNK_PW": PASSWORD})
    assert isinstance(built, SplunkConnector) and built.index == "security"
    with pytest.raises(ConfigError, match=r"unknown splunk setting\(s\) verify_certs; accepted:"):
        SplunkConnector.from_settings({**table, "verify_certs": True})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"username": "admin"}, "username and password go together"),
        ({"username": "a", "password": "b", "token": "t"}, "not both"),
        ({"notable": True}, "notable=true .* needs username"),
        ({"scheme": "ftp"}, "scheme must be https or http"),
        ({"verify": False, "ca_certs": "/etc/ssl/ca.pem"}, "ca_certs is ignored"),
        ({"batch_size": 0}, "batch_size must be >= 1"),
        ({"hec_url": "splunk:8088"}, "hec_url 'splunk:8088' must look like"),
        ({"ca_certs": "/nonexistent/ca.pem"}, "cannot read ca_certs"),
    ],
)
def test_bad_settings(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SplunkConnector("splunk.example", **kwargs)


def test_usage_errors(splunk: SplunkReplayServer) -> None:
    with pytest.raises(ConfigError, match="needs username= and password=, or token="):
        list(SplunkConnector(splunk.url).iter_events("index=ids"))
    with pytest.raises(ConfigError, match="queries are SPL strings"):
        list(_connector(splunk).iter_events({"term": {"event.action": "deny"}}))
    with pytest.raises(ConfigError, match="needs hec_token="):
        SplunkConnector(splunk.url, username="admin", password=PASSWORD).write_decisions(_report())
    default = SplunkConnector("https://splunk.example:18089")
    assert (default.url, default.hec_url) == (
        "https://splunk.example:18089",
        "https://splunk.example:8088",
    )


def test_missing_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "splunklib.client", None)
    with pytest.raises(MissingDependencyError, match=r'pip install "siem-consensus\[splunk\]"'):
        SplunkConnector("splunk.example")
