"""Connectors as sources and sinks of the entry points and the CLI (--from / --to).

Runs against a real osmem-server process (OpenSearch-compatible) driven by opensearch-py.
"""

from __future__ import annotations

import csv
import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from siem_consensus import analyze_firewall
from siem_consensus.cli import main
from siem_consensus.connectors import OpenSearchConnector

opensearchpy = pytest.importorskip("opensearchpy")
osmem = pytest.importorskip("osmem_server")

T0 = datetime(2024, 5, 1, tzinfo=UTC)
SCANNER = "203.0.113.66"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    server = osmem.OsmemServer.start(japanese=False, addr="127.0.0.1:0")
    try:
        client = opensearchpy.OpenSearch(hosts=[server.url])
        scan = (
            {
                "_index": "fw-a",
                "_id": f"e{i}",
                "@timestamp": (T0 + timedelta(seconds=i)).isoformat(),
                "source": {"ip": SCANNER},
                "destination": {"ip": "10.0.0.5", "port": 1 + i},
                "event": {"action": "deny"},
            }
            for i in range(300)
        )
        opensearchpy.helpers.bulk(client, scan, refresh=True)
        # One document that cannot become an event: its port is not a number.
        client.index(
            index="fw-b",
            id="bad",
            body={"@timestamp": T0.isoformat(), "destination": {"port": "http"}},
            refresh=True,
        )
        client.close()
        yield server.url
    finally:
        server.close()
        if server.process.stdout is not None:
            server.process.stdout.close()


def _closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def _read_back(url: str, index: str) -> list[dict[str, Any]]:
    client = opensearchpy.OpenSearch(hosts=[url])
    try:
        client.indices.refresh(index=index)
        hits = client.search(index=index, body={"size": 100})["hits"]["hits"]
        return [hit["_source"] for hit in hits]
    finally:
        client.close()


def test_search_as_source_and_connector_as_sink(url: str, tmp_path: Path) -> None:
    members = tmp_path / "members.csv"
    with OpenSearchConnector(url, "fw-*", "decisions-api", refresh=True) as siem:
        report = analyze_firewall(siem.search(start=T0), sinks=[siem], members_path=members)
    # Every document is accounted: 300 events and 1 dead letter naming the document.
    assert (report.input.lines, report.input.events, report.input.dead_letters) == (301, 300, 1)
    assert report.dead_letters[0].source == "fw-b:bad"
    assert report.input.formats == {"opensearch": "connector:opensearch"}
    [incident] = report.incidents
    assert incident.kind == "port_scan" and SCANNER in incident.entities.source_ips
    assert incident.evidence[0].event_id == "opensearch:1"  # numbered in read order
    # members_path re-ran the search: all 300 events, with connector event ids.
    with members.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 300 and rows[0]["event_id"].startswith("opensearch:")
    [delivery] = report.deliveries
    assert delivery.connector == "opensearch" and delivery.target == "decisions-api"
    assert delivery.ok and delivery.written == len(report.decisions) == 1
    [doc] = _read_back(url, "decisions-api")
    assert doc["siem_consensus"]["incident_id"] == incident.id


def test_unreachable_sink_keeps_the_report_and_lists_every_decision(url: str) -> None:
    with (
        OpenSearchConnector(url, "fw-a") as siem,
        OpenSearchConnector(_closed_port(), "x", max_retries=0, timeout=2) as down,
    ):
        report = analyze_firewall(siem, sinks=[down])  # a connector: everything it reads
    [delivery] = report.deliveries
    assert report.decisions and delivery.attempted == len(report.decisions)
    assert [f.incident_id for f in delivery.failures] == [d.incident_id for d in report.decisions]
    assert "cannot reach OpenSearch" in delivery.failures[0].reason


def _config(tmp_path: Path, url: str, down: str) -> Path:
    path = tmp_path / "siem-consensus.toml"
    path.write_text(
        f"""
[connectors.siem]
type = "opensearch"
hosts = ["{url}"]
index = "${{FW_INDEX}}"
target_index = "decisions-cli"
refresh = true

[connectors.down]
type = "opensearch"
hosts = ["{down}"]
index = "x"
max_retries = 0
timeout = 2
""",
        encoding="utf-8",
    )
    return path


def test_cli_from_and_to(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FW_INDEX", "fw-*")
    config = _config(tmp_path, url, _closed_port())
    out = tmp_path / "report.json"
    argv = ["firewall", "--from", "siem", "*", "--start", "2024-05-01T00:00:00Z"]
    argv += ["--to", "siem", "--connectors", str(config), "--format", "json", "-o", str(out)]
    assert main(argv) == 0
    report = json.loads(out.read_text())
    assert report["input"]["events"] == 300 and report["input"]["dead_letters"] == 1
    assert report["deliveries"][0]["target"] == "decisions-cli"
    assert (
        "opensearch decisions-cli: 1 created, 0 updated, 0 failed of 1" in capsys.readouterr().err
    )
    assert len(_read_back(url, "decisions-cli")) == 1
    # Re-running updates the same document instead of adding one.
    assert main(argv) == 0
    assert "0 created, 1 updated" in capsys.readouterr().err
    assert len(_read_back(url, "decisions-cli")) == 1
    # A sink that cannot be reached: the report is still written, the exit code says so.
    out.unlink()
    assert main([*argv, "--to", "down"]) == 3
    assert json.loads(out.read_text())["deliveries"][1]["failures"]
    assert "opensearch (not reached): 0 created, 0 updated, 1 failed of 1" in (
        capsys.readouterr().err
    )


def test_cli_query_string_and_time_window(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FW_INDEX", "fw-a")
    config = _config(tmp_path, url, _closed_port())
    out = tmp_path / "r.json"
    base = ["firewall", "--connectors", str(config), "--format", "json", "-o", str(out)]
    # Only the first 100 seconds: 100 events.
    window = ["--start", "2024-05-01T00:00:00", "--end", "2024-05-01T00:01:40"]
    assert main([*base, "--from", "siem", "*", *window]) == 0
    assert json.loads(out.read_text())["input"]["events"] == 100
    dsl = json.dumps({"range": {"destination.port": {"lte": 10}}})
    assert main([*base, "--from", "siem", dsl]) == 0
    assert json.loads(out.read_text())["input"]["events"] == 10


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["log.txt", "--from", "siem", "*"], "not both"),
        ([], "no input"),
        (["log.txt", "--start=-1h"], "--start/--end bound a --from search"),
        (["--from", "siem", "*", "--start", "yesterday"], "--start 'yesterday': give ISO 8601"),
        (["--from", "siem", "{bad json"], "looks like JSON but is not"),
        (["--from", "siem", "*", "--start", "2024-05-02", "--end", "2024-05-01"], "before --end"),
        (["--from", "nosuch", "*"], "no connection named 'nosuch'; configured: siem, down"),
    ],
)
def test_cli_connector_usage_errors(
    url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    monkeypatch.setenv("FW_INDEX", "fw-a")
    config = _config(tmp_path, url, _closed_port())
    assert main(["firewall", "--connectors", str(config), *extra]) == 2
    assert message in capsys.readouterr().err
