"""Elasticsearch connector, driven by elasticsearch-py 8 against two kinds of server.

* A real noida-db 0.2.3 process (Elasticsearch 8 REST API; started once for the module) for
  reading, paging, querying, writing back, mapping conflicts, missing index, the TLS failure
  (https to its plain-HTTP port) and ``from_settings``.
* Recorded wire exchanges (tests/data/elasticsearch/*.json), served in order by a small HTTP
  server on 127.0.0.1, for what noida-db cannot produce: 401 and 403 (it has no security
  layer), 429 rejections (it never rejects work) and a server without the point-in-time API.

The unreachable host is a closed port on 127.0.0.1. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import itertools
import json
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from siem_consensus import ConnectorError, MissingDependencyError, analyze_firewall
from siem_consensus.connectors import CONNECTORS, get_connector
from siem_consensus.connectors.elasticsearch import ElasticsearchConnector
from siem_consensus.errors import ConfigError
from siem_consensus.export import to_ecs_documents
from siem_consensus.models import Decision, Entities, Incident, Outcome, Severity
from siem_consensus.report import FirewallReport, Report
from siem_consensus.testing.noida import NoidaServer

elasticsearch = pytest.importorskip("elasticsearch")
es_helpers = pytest.importorskip("elasticsearch.helpers")
pytest.importorskip("noida_db")

RECORDED = Path(__file__).parent / "data" / "elasticsearch"
N_EVENTS = 12_000
SCANNER = "203.0.113.66"
T0 = datetime(2024, 5, 1, tzinfo=UTC)
ECS_MAPPING = {
    "properties": {
        "@timestamp": {"type": "date"},
        "source": {"properties": {"ip": {"type": "ip"}}},
        "destination": {"properties": {"ip": {"type": "ip"}, "port": {"type": "long"}}},
        "event": {"properties": {"action": {"type": "keyword"}}},
    }
}


# -- the real server ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def es_url() -> Iterator[str]:
    """One noida-db (Elasticsearch 8 API) on 127.0.0.1 for the whole module."""
    with NoidaServer(("elasticsearch",)) as server:
        yield server.elasticsearch_url


def _doc(i: int) -> dict[str, Any]:
    ts = (T0 + timedelta(seconds=i)).isoformat().replace("+00:00", "Z")
    action = "allow" if i % 12 == 3 else "deny"
    if i % 12 == 0:  # two vertical port scans spread through the quiet background
        src, dst, port = SCANNER, "10.0.0.5", 1 + i // 12
    elif i % 12 == 6:
        src, dst, port = "192.0.2.77", "10.0.0.6", 1 + i // 12
    else:
        src, dst, port = f"198.51.100.{i % 50 + 1}", f"10.0.1.{i % 7 + 1}", (443, 22, 3389)[i % 3]
    if i % 5 == 0:  # some documents use dotted ECS keys instead of nested objects
        return {"@timestamp": ts, "source.ip": src, "destination.ip": dst,
                "destination.port": port, "event.action": action}  # fmt: skip
    return {
        "@timestamp": ts,
        "source": {"ip": src},
        "destination": {"ip": dst, "port": port},
        "event": {"action": action, "id": f"fw-{i}"},  # its own event.id: not the Event's
        "observer": {"vendor": "test"},  # an ECS field the Event model does not carry
    }


@pytest.fixture(scope="module")
def client(es_url: str) -> Iterator[Any]:
    es = elasticsearch.Elasticsearch(es_url)
    yield es
    es.close()


@pytest.fixture(scope="module")
def events_index(client: Any) -> str:
    client.indices.create(index="fw-events", mappings=ECS_MAPPING)
    # Indexed in a shuffled order so the connector's ordering is what is tested.
    order = sorted(range(N_EVENTS), key=lambda i: (i * 7919) % N_EVENTS)
    actions = ({"_index": "fw-events", "_id": f"e{i}", **_doc(i)} for i in order)
    ok, errors = es_helpers.bulk(client, actions, refresh=True, raise_on_error=False)
    assert (ok, errors) == (N_EVENTS, [])
    return "fw-events"


def _connector(url: str, **kwargs: Any) -> ElasticsearchConnector:
    return ElasticsearchConnector(url, "fw-events", refresh=True, **kwargs)


@pytest.fixture(scope="module")
def report(es_url: str, events_index: str) -> Report:
    with _connector(es_url) as conn:
        return analyze_firewall(conn.iter_events())


@pytest.mark.parametrize("paging", ["pit", "scroll"])
def test_reads_past_10000_hits_in_order(es_url: str, events_index: str, paging: Any) -> None:
    with _connector(es_url, paging=paging, page_size=2500) as conn:
        events = list(conn.iter_events())
    assert len(events) == N_EVENTS
    assert [e.event_id for e in events] == [f"fw-events:e{i}" for i in range(N_EVENTS)]
    assert events[0].source_ip == SCANNER and events[0].destination_port == 1
    assert events[5].source_ip == "198.51.100.6" and events[5].event_action == "deny"
    assert events[3].event_action == "allow" and events[3].destination_ip == "10.0.1.4"
    assert conn.dead_letters == []


def test_time_window_query_string_and_dsl(es_url: str, events_index: str) -> None:
    with _connector(es_url) as conn:
        window = list(conn.iter_events(start=T0, end=T0 + timedelta(seconds=100)))
        scan = list(conn.iter_events({"term": {"source.ip": SCANNER}}))
        allowed = list(conn.iter_events("event.action:allow", start=T0 + timedelta(hours=1)))
    assert [e.event_id for e in window] == [f"fw-events:e{i}" for i in range(100)]
    assert len(scan) == N_EVENTS // 12 and {e.source_ip for e in scan} == {SCANNER}
    assert [e.event_id for e in allowed] == [
        f"fw-events:e{i}" for i in range(3600, N_EVENTS) if i % 12 == 3
    ]


def test_documents_that_are_no_events_become_dead_letters(es_url: str, client: Any) -> None:
    client.bulk(operations=[
        {"index": {"_index": "fw-odd", "_id": "bad"}}, {"@timestamp": "2024-05-01T00:00:00Z",
        "destination": {"port": "ssh"}},  # text in a new index: dynamic mapping allows it
        {"index": {"_index": "fw-odd", "_id": "ok"}}, {"@timestamp": "2024-05-01T00:00:01Z"},
    ], refresh=True)  # fmt: skip
    with ElasticsearchConnector(es_url, "fw-odd") as conn:
        events = list(conn.iter_events())
    assert [e.event_id for e in events] == ["fw-odd:ok"]
    assert [d.source for d in conn.dead_letters] == ["fw-odd:bad"]
    assert "valid integer" in conn.dead_letters[0].reason


def test_write_back_sends_the_ecs_export_and_reads_again(
    es_url: str, client: Any, report: Report
) -> None:
    assert report.input.events == N_EVENTS
    scan = next(i for i in report.incidents if SCANNER in i.entities.source_ips)
    assert scan.kind == "port_scan"
    with _connector(es_url, target_index="decisions") as conn:
        result = conn.write_decisions(report)
    assert result.ok and result.created == result.attempted == len(report.decisions) > 0
    assert result.connector == "elasticsearch" and result.target == "decisions"

    # The SIEM holds the documents of `siem-consensus export --format ecs`, plus the incident.
    exported = {doc.pop("_id"): doc for doc in to_ecs_documents(report)}
    hits = client.search(index="decisions", size=100)["hits"]["hits"]
    assert len(hits) == len(exported)
    for hit in hits:
        source, ours = hit["_source"], hit["_source"]["siem_consensus"]
        incident = {k: ours.pop(k) for k in ("incident", "threshold", "recommended_actions")}
        assert source == exported[hit["_id"]]
        assert incident["incident"]["id"] == ours["incident_id"]
        assert "evidence" not in incident["incident"]
        assert incident["incident"]["evidence_event_ids"]

    # ... and the enriched documents read back as events like any other index.
    with ElasticsearchConnector(es_url, "decisions") as conn:
        enriched = list(conn.iter_events({"term": {"siem_consensus.incident_id.keyword": scan.id}}))
    assert len(enriched) == 1
    assert enriched[0].source_ip == SCANNER and enriched[0].event_action == "port_scan"
    assert enriched[0].rule_name == scan.title


def test_rerun_updates_instead_of_duplicating(es_url: str, client: Any, report: Report) -> None:
    with _connector(es_url, target_index="decisions-idem", page_size=2) as conn:
        first = conn.write_decisions(report)
        second = conn.write_decisions(report)
    n = len(report.decisions)
    assert first.ok and (first.created, first.updated) == (n, 0)
    assert second.ok and (second.created, second.updated) == (0, n)
    assert client.count(index="decisions-idem")["count"] == n


def test_partial_bulk_failure_names_the_bad_document(
    es_url: str, client: Any, report: Report
) -> None:
    # noida-db enforces mappings like Elasticsearch: "not-an-ip" in an ip field is refused.
    client.indices.create(index="decisions-strict", mappings={"dynamic": False,
        "properties": {"source": {"properties": {"ip": {"type": "ip"}}}}})  # fmt: skip
    assert len(report.incidents) >= 2
    bad = report.incidents[0]
    broken = bad.model_copy(update={"entities": Entities(source_ips=("not-an-ip",))})
    broken_report = report.model_copy(update={"incidents": (broken, *report.incidents[1:])})
    with _connector(es_url, target_index="decisions-strict") as conn:
        result = conn.write_decisions(broken_report)
    assert not result.ok
    assert [f.incident_id for f in result.failures] == [bad.id]
    failure = result.failures[0]
    assert failure.status == 400 and failure.error_type == "document_parsing_exception"
    assert "not-an-ip" in failure.reason
    assert result.created == len(report.decisions) - 1
    assert client.count(index="decisions-strict")["count"] == len(report.decisions) - 1


def test_missing_index_is_actionable(es_url: str) -> None:
    with (
        ElasticsearchConnector(es_url, "no-such-index") as conn,
        pytest.raises(ConnectorError, match=r"index 'no-such-index' not found.*_cat/indices"),
    ):
        next(conn.iter_events())


def test_unreachable_host_names_the_url_after_retries() -> None:
    # Port 1 on loopback: nothing listens there, the connection is refused at once.
    with (
        ElasticsearchConnector("http://127.0.0.1:1", "fw-events", backoff=0.01) as conn,
        pytest.raises(
            ConnectorError, match=r"cannot reach Elasticsearch at http://127\.0\.0\.1:1 after 4"
        ),
    ):
        next(conn.iter_events())


def test_credentials_in_the_host_url_stay_out_of_errors() -> None:
    """Both clients accept ``https://user:password@host``; messages show the URL without it."""
    from siem_consensus.connectors import OpenSearchConnector

    pytest.importorskip("opensearchpy")
    url = "http://triage:Pa55-in-url@127.0.0.1:1"
    for cls in (ElasticsearchConnector, OpenSearchConnector):
        with cls(url, "fw-events", max_retries=0) as conn, pytest.raises(ConnectorError) as caught:
            next(conn.iter_events())
        assert "at http://127.0.0.1:1" in str(caught.value)
        assert "Pa55-in-url" not in str(caught.value)
    with pytest.raises(ConfigError) as bad:
        ElasticsearchConnector("http://triage:Pa55-in-url@[::1", "fw-events")
    assert "Pa55-in-url" not in str(bad.value)


def test_tls_failure_says_what_to_pass(es_url: str) -> None:
    # https:// to noida-db's plain-HTTP port: a real TLS handshake failure, not retried.
    url = es_url.replace("http://", "https://")
    with (
        ElasticsearchConnector(url, "fw-events", backoff=5) as conn,
        pytest.raises(ConnectorError, match=r"TLS failed .* pass ca_certs=.*fingerprint"),
    ):
        next(conn.iter_events())


def test_from_settings_builds_it_from_a_toml_table(es_url: str, events_index: str) -> None:
    settings = {  # what tomllib returns for a [connectors.elasticsearch] table
        "hosts": [es_url],
        "index": "fw-events",
        "username": "triage",
        "password": "secret",  # noida-db accepts any credentials
        "page_size": 5000,
        "retry_on_status": [429, 503],
        "refresh": "wait_for",
    }
    with ElasticsearchConnector.from_settings(settings) as conn:
        assert isinstance(conn, ElasticsearchConnector)
        assert conn.retry_on_status == {429, 503} and conn.refresh == "wait_for"
        assert sum(1 for _ in conn.iter_events(start=T0 + timedelta(seconds=N_EVENTS - 10))) == 10
    with pytest.raises(ConfigError, match=r"unknown elasticsearch setting\(s\) auth"):
        ElasticsearchConnector.from_settings({**settings, "auth": ["a", "b"]})
    with pytest.raises(ConfigError, match="api_key= or username=/password=, not both"):
        ElasticsearchConnector.from_settings({**settings, "api_key": "aWQ6a2V5"})
    with pytest.raises(ConfigError, match="page_size must be 1 to 10000"):
        ElasticsearchConnector.from_settings({**settings, "page_size": 20_000})
    with pytest.raises(ConfigError, match="hosts are URLs like https:"):
        ElasticsearchConnector.from_settings({**settings, "hosts": "localhost"})


def test_registry_and_missing_dependency(monkeypatch: pytest.MonkeyPatch) -> None:
    assert CONNECTORS["elasticsearch"] is ElasticsearchConnector
    assert get_connector("elasticsearch") is ElasticsearchConnector
    monkeypatch.setitem(sys.modules, "elasticsearch", None)
    with pytest.raises(
        MissingDependencyError, match=r'pip install "siem-consensus\[elasticsearch\]"'
    ):
        ElasticsearchConnector("http://127.0.0.1:9200", "fw-events")


# -- recorded exchanges ---------------------------------------------------------------------


class _Replay(BaseHTTPRequestHandler):
    """Answers each request with the next recorded response, if the request is the recorded one.

    The server's ``exchanges`` are consumed in order; each request (method, path, body and
    arrival time) is kept in ``received`` so a test can check what the client sent.
    """

    protocol_version = "HTTP/1.1"
    server: _ReplayServer

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        self.server.received.append((self.command, self.path, body, time.monotonic()))
        if not self.server.exchanges:
            status, headers, payload = 500, {}, {"error": "replay: no exchange left"}
        else:
            request, response = self.server.exchanges.pop(0)
            if (request["method"], request["path"]) != (self.command, self.path):
                self.server.exchanges.clear()  # stop: the client is not doing what was recorded
                status, headers = 500, {}
                payload = {"error": f"replay: expected {request}, got {self.command} {self.path}"}
            else:
                status, headers, payload = response["status"], response["headers"], response["body"]
        data = json.dumps(payload).encode()
        self.send_response(status)
        for name, values in {"Content-Type": "application/json", **headers}.items():
            for value in values if isinstance(values, list) else [values]:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        pass


class _ReplayServer(HTTPServer):
    def __init__(self, recording: str, first: int | None) -> None:
        super().__init__(("127.0.0.1", 0), _Replay)
        exchanges = json.loads((RECORDED / recording).read_text())["exchanges"][:first]
        self.exchanges = [(e["request"], e["response"]) for e in exchanges]
        self.received: list[tuple[str, str, str, float]] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def replay() -> Iterator[Any]:
    """``replay("name.json", first=None)`` serves that recording (its ``first`` exchanges).

    At the end of the test every exchange served must have been used.
    """
    servers: list[tuple[_ReplayServer, threading.Thread]] = []

    def start(recording: str, first: int | None = None) -> _ReplayServer:
        server = _ReplayServer(recording, first)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        servers.append((server, thread))
        return server

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join()
        assert server.exchanges == [], "the client did not make every recorded request"


def test_auth_failure_is_actionable(replay: Any) -> None:
    server = replay("auth_401.json")
    with (
        ElasticsearchConnector(server.url, "fw-events", username="analyst", password="x") as conn,
        pytest.raises(
            ConnectorError,
            match=r"rejected the credentials \(HTTP 401\).*check api_key= or username=/password="
            r".*unable to authenticate user \[analyst\]",
        ),
    ):
        next(conn.iter_events())
    assert len(server.received) == 1  # a 401 is not retried


def test_forbidden_names_the_missing_privilege(replay: Any) -> None:
    server = replay("forbidden_403.json")
    with (
        ElasticsearchConnector(server.url, "fw-events", api_key=["id", "key"]) as conn,
        pytest.raises(ConnectorError, match=r"denied .*'fw-events' \(HTTP 403\): grant .* read"),
    ):
        next(conn.iter_events())


def _two_incident_report() -> FirewallReport:
    """A fixed report whose document ids are the ones in bulk_rejected_429.json."""
    incidents = tuple(
        Incident(id=f"fw-test-{n}", detector="firewall", kind="port_scan", title=f"Port scan {n}",
                 severity=Severity.HIGH, score=0.8, first_seen=T0, last_seen=T0,
                 entities=Entities(source_ips=(SCANNER,), destination_ips=("10.0.0.5",)))
        for n in (1, 2)
    )  # fmt: skip
    decisions = tuple(
        Decision(incident_id=i.id, outcome=Outcome.ALERT, confidence=0.9, threshold=0.8)
        for i in incidents
    )
    return FirewallReport(incidents=incidents, decisions=decisions)


def test_rejected_bulk_requests_and_items_are_retried_with_backoff(replay: Any) -> None:
    server = replay("bulk_rejected_429.json")
    with ElasticsearchConnector(server.url, "fw-events", backoff=0.05) as conn:
        result = conn.write_decisions(_two_incident_report())
    assert result.ok and (result.created, result.updated) == (2, 0)
    bodies = [[json.loads(line) for line in body.splitlines()] for _, _, body, _ in server.received]
    assert [len(lines) // 2 for lines in bodies] == [2, 2, 1]  # only the rejected item again
    assert bodies[2][0]["index"]["_id"] == bodies[1][2]["index"]["_id"]
    arrivals = [at for *_, at in server.received]
    assert all(b - a >= 0.05 for a, b in itertools.pairwise(arrivals))  # waited before each


def test_a_busy_cluster_is_reported_when_the_retries_run_out(replay: Any) -> None:
    server = replay("bulk_rejected_429.json", first=1)  # only the whole-request 429
    with (
        ElasticsearchConnector(server.url, "fw-events", max_retries=0) as conn,
        pytest.raises(
            ConnectorError,
            match=r"still busy \(bulk write to 'security-enriched-decisions': HTTP 429 "
            r"es_rejected_execution_exception\): try again later",
        ),
    ):
        conn.write_decisions(_two_incident_report())


def test_without_point_in_time_it_falls_back_to_scroll(replay: Any) -> None:
    server = replay("no_pit_scroll.json")
    with ElasticsearchConnector(server.url, "fw-events") as conn:
        events = list(conn.iter_events())
    assert [(e.event_id, e.destination_port) for e in events] == [
        ("fw-events:e0", 22),
        ("fw-events:e1", 23),
    ]
