"""The in-memory connector as a source and sink: accounting, time bounds, re-runs, refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from siem_consensus import ConnectorError, analyze_firewall, correlate_ids_alerts
from siem_consensus.connectors import get_connector
from siem_consensus.connectors._documents import decision_documents
from siem_consensus.models import Event, WriteResult
from siem_consensus.report import Report
from siem_consensus.testing import MemoryConnector

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def _scan(n: int = 200) -> list[Event]:
    return [
        Event(
            event_id=f"doc-{i}",
            timestamp=T0 + timedelta(seconds=i),
            source_ip="203.0.113.66",
            destination_ip="10.0.0.5",
            destination_port=1 + i,
            event_action="deny",
        )
        for i in reversed(range(n))  # stored newest first: the read sorts
    ]


def test_registered_under_its_name() -> None:
    assert get_connector("memory") is MemoryConnector


def test_source_and_sink_round_trip() -> None:
    siem = MemoryConnector(_scan())
    report = analyze_firewall(siem.search(start=T0 + timedelta(seconds=50)), sinks=[siem])
    assert report.input.events == report.input.lines == 150
    assert report.input.formats == {"memory": "connector:memory"}
    [incident] = report.incidents
    assert (
        incident.kind == "port_scan" and incident.evidence[0].event_id == "doc-50"
    )  # the document's own id
    [delivery] = report.deliveries
    assert (delivery.connector, delivery.created, delivery.updated) == ("memory", 1, 0)
    [doc] = siem.documents.values()
    assert doc["siem_consensus"]["incident_id"] == incident.id
    # A re-run updates the same document.
    again = analyze_firewall(siem.search(start=T0 + timedelta(seconds=50)), sinks=[siem])
    assert (again.deliveries[0].created, again.deliveries[0].updated) == (0, 1)
    assert len(siem.documents) == 1 and siem.writes == 2


def test_refused_documents_are_listed_not_lost() -> None:
    siem = MemoryConnector(_scan())
    first = analyze_firewall(siem)
    incident_id = first.incidents[0].id
    sink = MemoryConnector(refuse=[incident_id])
    report = analyze_firewall(siem, sinks=[siem, sink])
    ok, refused = report.deliveries
    assert ok.ok and ok.written == 1
    assert not refused.ok and [f.incident_id for f in refused.failures] == [incident_id]
    assert refused.attempted == 1 and refused.written == 0


def test_empty_window_gives_an_empty_report() -> None:
    siem = MemoryConnector(_scan())
    report = correlate_ids_alerts(siem.search(end=T0))
    assert report.input.lines == 0 and not report.incidents and not report.deliveries


def test_writes_what_every_connector_writes_and_lists_orphans() -> None:
    siem = MemoryConnector(_scan())
    report = analyze_firewall(siem)
    orphan = report.decisions[0].model_copy(update={"incident_id": "fw-missing"})
    broken = report.model_copy(update={"decisions": (*report.decisions, orphan)})
    result = MemoryConnector().write_decisions(broken)
    assert result.attempted == len(broken.decisions) == result.created + 1
    [failure] = result.failures
    assert (failure.incident_id, failure.error_type) == ("fw-missing", "incident_not_in_report")
    sink = MemoryConnector()
    sink.write_decisions(report)
    assert sink.documents == {d.doc_id: d.source for d in decision_documents(report)[0]}


class _Down(MemoryConnector):
    def write_decisions(self, report: Report) -> WriteResult:
        raise ConnectorError("cannot reach the SIEM at https://siem.example (test)")


def test_a_sink_that_fails_says_why_even_with_nothing_to_write() -> None:
    report = analyze_firewall(MemoryConnector(), sinks=[_Down()])
    [delivery] = report.deliveries
    assert not report.decisions and not delivery.failures
    assert not delivery.ok and "cannot reach the SIEM" in delivery.error
    assert delivery.connector == "memory"
