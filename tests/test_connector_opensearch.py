"""OpenSearch connector against a real osmem-server process, driven by opensearch-py."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from siem_consensus import ConnectorError, MissingDependencyError, analyze_firewall
from siem_consensus.connectors import CONNECTORS, OpenSearchConnector, get_connector
from siem_consensus.errors import ConfigError
from siem_consensus.export import to_ecs_documents
from siem_consensus.models import Entities

opensearchpy = pytest.importorskip("opensearchpy")
osmem = pytest.importorskip("osmem_server")

N_EVENTS = 12_000
SCANNER = "203.0.113.66"
T0 = datetime(2024, 5, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def opensearch_url() -> Iterator[str]:
    """One osmem-server on 127.0.0.1 with an ephemeral port, for the whole module."""
    server = osmem.OsmemServer.start(japanese=False, addr="127.0.0.1:0")
    try:
        yield server.url
    finally:
        server.close()
        if server.process.stdout is not None:  # the launcher leaves its pipe open
            server.process.stdout.close()


def _doc(i: int) -> dict[str, Any]:
    ts = (T0 + timedelta(seconds=i)).isoformat().replace("+00:00", "Z")
    if i % 12 == 0:  # two vertical port scans spread through the quiet background
        src, dst, port = SCANNER, "10.0.0.5", 1 + i // 12
    elif i % 12 == 6:
        src, dst, port = "192.0.2.77", "10.0.0.6", 1 + i // 12
    else:
        src, dst, port = f"198.51.100.{i % 50 + 1}", f"10.0.1.{i % 7 + 1}", (443, 22, 3389)[i % 3]
    if i % 5 == 0:  # some documents use dotted ECS keys instead of nested objects
        return {"@timestamp": ts, "source.ip": src, "destination.ip": dst,
                "destination.port": port, "event.action": "deny"}  # fmt: skip
    return {
        "@timestamp": ts,
        "source": {"ip": src},
        "destination": {"ip": dst, "port": port},
        "event": {"action": "deny"},
        "observer": {"vendor": "test"},  # an ECS field the Event model does not carry
    }


@pytest.fixture(scope="module")
def events_index(opensearch_url: str) -> str:
    client = opensearchpy.OpenSearch(hosts=[opensearch_url])
    client.indices.create(index="fw-events", body={"mappings": {"properties": {
        "@timestamp": {"type": "date"}}}})  # fmt: skip
    # Indexed in a shuffled order so the connector's ordering is what is tested.
    order = sorted(range(N_EVENTS), key=lambda i: (i * 7919) % N_EVENTS)
    actions = ({"_index": "fw-events", "_id": f"e{i}", **_doc(i)} for i in order)
    ok, errors = opensearchpy.helpers.bulk(client, actions, refresh=True, raise_on_error=False)
    assert (ok, errors) == (N_EVENTS, [])
    client.close()
    return "fw-events"


def _connector(url: str, **kwargs: Any) -> OpenSearchConnector:
    return OpenSearchConnector(url, "fw-events", refresh=True, **kwargs)


@pytest.mark.parametrize("paging", ["pit", "scroll"])
def test_reads_past_10000_hits_in_order(
    opensearch_url: str, events_index: str, paging: Any
) -> None:
    with _connector(opensearch_url, paging=paging, page_size=2500) as conn:
        events = list(conn.iter_events())
    assert len(events) == N_EVENTS
    assert [e.event_id for e in events] == [f"fw-events:e{i}" for i in range(N_EVENTS)]
    assert events[0].source_ip == SCANNER and events[0].destination_port == 1
    assert events[5].source_ip == "198.51.100.6" and events[5].event_action == "deny"
    assert conn.dead_letters == []


def test_query_and_time_window(opensearch_url: str, events_index: str) -> None:
    with _connector(opensearch_url) as conn:
        window = list(conn.iter_events(start=T0, end=T0 + timedelta(seconds=100)))
        scan = list(conn.iter_events({"term": {"source.ip": SCANNER}}))
    assert [e.event_id for e in window] == [f"fw-events:e{i}" for i in range(100)]
    assert len(scan) == N_EVENTS // 12


def test_analyze_write_back_and_rerun_is_idempotent(opensearch_url: str, events_index: str) -> None:
    with _connector(opensearch_url, target_index="decisions-idem") as conn:
        report = analyze_firewall(conn.iter_events())
        assert report.input.events == N_EVENTS
        scan = [i for i in report.incidents if SCANNER in i.entities.source_ips]
        assert scan and scan[0].kind == "port_scan"
        first = conn.write_decisions(report)
        second = conn.write_decisions(report)
    assert first.ok and first.created == len(report.decisions) > 0
    assert second.ok and (second.created, second.updated) == (0, len(report.decisions))

    client = opensearchpy.OpenSearch(hosts=[opensearch_url])
    assert client.count(index="decisions-idem")["count"] == len(report.decisions)
    hits = client.search(index="decisions-idem", body={"size": 100})["hits"]["hits"]
    # The written documents are the ECS export documents (same _id), plus the incident.
    by_incident = {h["_source"]["siem_consensus"]["incident_id"]: h for h in hits}
    doc = by_incident[scan[0].id]["_source"]
    assert doc["source"]["ip"] == [SCANNER]
    assert doc["siem_consensus"]["incident"]["kind"] == "port_scan"
    assert doc["siem_consensus"]["outcome"] == report.decision_for(scan[0].id).outcome
    exported = {d.pop("_id"): d for d in to_ecs_documents(report)}
    assert by_incident[scan[0].id]["_id"] in exported
    client.close()


def test_partial_bulk_failure_names_the_bad_document(
    opensearch_url: str, events_index: str
) -> None:
    client = opensearchpy.OpenSearch(hosts=[opensearch_url])
    client.indices.create(index="decisions-strict", body={"mappings": {"dynamic": False,
        "properties": {"source": {"properties": {"ip": {"type": "ip"}}}}}})  # fmt: skip
    with _connector(opensearch_url, target_index="decisions-strict") as conn:
        report = analyze_firewall(conn.iter_events())
        assert len(report.incidents) >= 2
        bad = report.incidents[0]
        broken = bad.model_copy(update={"entities": Entities(source_ips=("not-an-ip",))})
        report = report.model_copy(update={"incidents": (broken, *report.incidents[1:])})
        result = conn.write_decisions(report)
    assert not result.ok
    assert [f.incident_id for f in result.failures] == [bad.id]
    assert result.failures[0].status == 400 and "not-an-ip" in result.failures[0].reason
    assert result.created == len(report.decisions) - 1
    assert client.count(index="decisions-strict")["count"] == len(report.decisions) - 1
    client.close()


def test_missing_index_is_actionable(opensearch_url: str) -> None:
    with (
        OpenSearchConnector(opensearch_url, "no-such-index") as conn,
        pytest.raises(ConnectorError, match=r"index 'no-such-index' not found.*_cat/indices"),
    ):
        next(conn.iter_events())


def test_unreachable_host_names_the_url(opensearch_url: str) -> None:
    # Port 1 on loopback: nothing listens there, the connection is refused at once.
    url = "http://127.0.0.1:1"
    with (
        OpenSearchConnector(url, "fw-events", max_retries=0) as conn,
        pytest.raises(ConnectorError, match=r"cannot reach OpenSearch at http://127\.0\.0\.1:1"),
    ):
        next(conn.iter_events())


class _Rejecting(BaseHTTPRequestHandler):
    """A server that answers every request like a secured cluster given bad credentials."""

    def do_POST(self) -> None:
        body = json.dumps({"error": {"type": "security_exception", "reason": "bad creds"}})
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    do_GET = do_POST

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.parametrize(
    "credentials",
    [{"auth": ["analyst", "wrong"]}, {"username": "analyst", "password": "wrong"}],
)
def test_auth_failure_is_actionable(credentials: dict[str, Any]) -> None:
    # osmem-server has no security plugin, so a local HTTP server plays the 401.
    server = HTTPServer(("127.0.0.1", 0), _Rejecting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        settings = {"hosts": [url], "index": "fw-events", **credentials}  # as from a TOML table
        with (
            OpenSearchConnector.from_settings(settings) as conn,
            pytest.raises(ConnectorError, match=r"rejected the credentials.*auth=\(user"),
        ):
            next(conn.iter_events())
        with pytest.raises(ConfigError, match="not both"):
            OpenSearchConnector.from_settings({**settings, "auth": ["a", "b"], "username": "a"})
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_registry_and_missing_dependency(monkeypatch: pytest.MonkeyPatch) -> None:
    assert CONNECTORS["opensearch"] is OpenSearchConnector
    assert get_connector("opensearch") is OpenSearchConnector
    with pytest.raises(ConfigError, match="valid connectors are: .*opensearch"):
        get_connector("nope")
    with pytest.raises(ConfigError, match="opensearch: page_size must be 1 to 10000, not 0"):
        OpenSearchConnector("http://127.0.0.1:9200", "fw-events", page_size=0)
    monkeypatch.setitem(sys.modules, "opensearchpy", None)
    with pytest.raises(MissingDependencyError, match=r'pip install "siem-consensus\[opensearch\]"'):
        OpenSearchConnector("http://127.0.0.1:9200", "fw-events")
