"""What the detector commands' flags do to a run, read back from the report, the exit code and
stderr. The run is ``cli._triage.run_triage`` in this process, on the arguments as the command
line parses them (``main`` adds only the ``[defaults]`` of a config file and the exit-code guard).
"""

from __future__ import annotations

import contextlib
import io
import json
import locale
import logging
import re
import socket
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from llm_helpers import claims, scan_incident

from siem_consensus.cli import _triage
from siem_consensus.cli._exit import INPUT, OK
from siem_consensus.cli._options import build_parser
from siem_consensus.errors import UsageError
from siem_consensus.generators.firewall import write_scenario_1
from siem_consensus.models import WriteFailure, WriteResult
from siem_consensus.report import Report
from siem_consensus.testing import Fault, ProviderSimulator, RecordedRequest, Reply


@pytest.fixture
def asa_log(tmp_path: Path) -> Path:
    """Scenario 1: one external host scanning a server, one incident the rules alert on."""
    path = tmp_path / "asa.log"
    write_scenario_1(path, seed=7)
    return path


def _run(*argv: str, report: Path) -> tuple[int, dict[str, Any]]:
    """Run a detector command with ``--format json -o report``; the code and the report."""
    args = build_parser().parse_args([*argv, "-q", "--format", "json", "-o", str(report)])
    code = _triage.run_triage(args)
    return code, json.loads(report.read_text(encoding="utf-8"))


# ------------------------------------------------------------------ --thresholds


def test_a_thresholds_file_changes_what_the_detector_finds(asa_log: Path, tmp_path: Path) -> None:
    code, plain = _run("firewall", str(asa_log), "--no-cache", report=tmp_path / "a.json")
    assert code == OK and len(plain["incidents"]) == 1
    config = tmp_path / "fw.toml"
    config.write_text("[firewall]\nport_scan_ports = 20\nlong_horizon_s = 0\n", encoding="utf-8")
    argv = ("firewall", str(asa_log), "--no-cache", "--thresholds", str(config))
    code, strict = _run(*argv, report=tmp_path / "b.json")
    assert code == OK and strict["incidents"] == [] and strict["decisions"] == []


@pytest.fixture
def ascii_locale() -> Iterator[None]:
    """The C locale's character set (ASCII), as on a server without a UTF-8 locale."""
    before = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    try:
        yield
    finally:
        locale.setlocale(locale.LC_CTYPE, before)


def test_a_thresholds_file_is_utf8_whatever_the_locale(tmp_path: Path, ascii_locale: None) -> None:
    config = tmp_path / "fw.toml"
    text = "# seuil réglé à Zürich\n[firewall]\nport_scan_ports = 20\n"
    config.write_text(text, encoding="utf-8")
    assert _triage._thresholds("firewall", str(config)).port_scan_ports == 20


# ------------------------------------------------------------------ --analyst-timeout


def test_analyst_timeout_bounds_each_provider_call_of_the_run(
    asa_log: Path, tmp_path: Path, provider_simulator_env: ProviderSimulator
) -> None:
    def slow(_request: RecordedRequest) -> Reply:
        return Reply(payload=claims(scan_incident(), evidence_event_ids=[]), latency=1.0)

    provider_simulator_env.openai.respond_with(slow)
    argv = ("firewall", str(asa_log), "--analysts", "rules,openai", "--no-cache")
    code, report = _run(*argv, "--analyst-timeout", "0.2", report=tmp_path / "r.json")
    assert code == OK  # no --fail-on
    [decision] = report["decisions"]
    assert decision["outcome"] == "needs_review" and decision["degraded"] is True
    [llm] = [v for v in decision["verdicts"] if v["analyst"] != "rules"]
    # every attempt outlived 0.2 s (without the flag the run waits 90 s and gets the answer)
    assert "timed out: no answer within 0.2s" in llm["error"]


# ------------------------------------------------------------------ the closing summary


def _failure(n: int, reason: str) -> WriteFailure:
    return WriteFailure(doc_id=f"doc-{n}", incident_id=f"fw-{n}", status=400, reason=reason)


def test_a_refusing_sink_fails_the_run_even_when_a_later_sink_is_clean(
    capsys: pytest.CaptureFixture[str],
) -> None:
    refused = WriteResult(connector="es", target="i", attempted=1, failures=(_failure(1, "bad"),))
    clean = WriteResult(connector="splunk", target="main", attempted=1, created=1)
    assert _triage._deliveries(Report(deliveries=(refused, clean))) == INPUT
    assert _triage._deliveries(Report(deliveries=(clean, refused))) == INPUT
    assert _triage._deliveries(Report(deliveries=(clean, clean))) == OK
    assert "es i: 0 created, 0 updated, 1 failed of 1" in capsys.readouterr().err


def test_a_sink_that_refused_a_document_then_failed_fails_the_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    broken = WriteResult(
        connector="kafka",
        target="t",
        attempted=2,
        failures=(_failure(1, "too large"),),
        error="broker went away",
    )
    assert _triage._deliveries(Report(deliveries=(broken,))) == INPUT
    assert capsys.readouterr().err.splitlines() == [
        "kafka t: 0 created, 0 updated, 1 failed of 2",
        "  broker went away",
    ]


def test_two_failures_with_one_reason_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    _triage._print_failures([_failure(1, "index closed"), _failure(2, "index closed")])
    assert capsys.readouterr().err == "  all 2: index closed\n"
    _triage._print_failures([_failure(1, "index closed")])
    assert capsys.readouterr().err == "  fw-1: index closed\n"


# ------------------------------------------------------------------ checked before any work


@pytest.mark.parametrize("option", ["--members", "--dead-letters"])
def test_a_side_file_may_not_be_stdout(option: str, asa_log: Path) -> None:
    args = build_parser().parse_args(["firewall", str(asa_log), option, "-"])
    with pytest.raises(UsageError, match=rf"^{option} -: stdout carries the report; give a file"):
        _triage.run_triage(args)


def test_an_unknown_timezone_is_named_before_the_inputs_are_looked_at(tmp_path: Path) -> None:
    missing = tmp_path / "never-there.log"
    args = build_parser().parse_args(["firewall", str(missing), "--timezone", "Mars/Olympus"])
    with pytest.raises(UsageError, match=r"--timezone.*Mars/Olympus"):
        _triage.run_triage(args)


# ------------------------------------------------------------------ what the run is given


def test_timezone_places_zoneless_time_stamps(asa_log: Path, tmp_path: Path) -> None:
    # ASA syslog time stamps carry no zone: UTC, unless --timezone names one.
    _, utc = _run("firewall", str(asa_log), "--no-cache", report=tmp_path / "utc.json")
    argv = ("firewall", str(asa_log), "--no-cache", "--timezone", "Europe/Vienna")
    _, vienna = _run(*argv, report=tmp_path / "vienna.json")
    [at_utc], [at_vienna] = utc["incidents"], vienna["incidents"]
    shift = datetime.fromisoformat(at_utc["first_seen"]) - datetime.fromisoformat(
        at_vienna["first_seen"]
    )
    assert shift == timedelta(hours=1)  # January in Vienna is UTC+1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_sink_named_by_to_receives_the_decisions(asa_log: Path, tmp_path: Path) -> None:
    config = tmp_path / "siem-consensus.toml"
    config.write_text(
        f'[connectors.down]\ntype = "opensearch"\nhosts = ["http://127.0.0.1:{_closed_port()}"]\n'
        'index = "x"\nmax_retries = 0\ntimeout = 2\n',
        encoding="utf-8",
    )
    argv = ("firewall", str(asa_log), "--no-cache", "--to", "down", "--connectors", str(config))
    code, report = _run(*argv, report=tmp_path / "r.json")
    [delivery] = report["deliveries"]
    assert delivery["connector"] == "opensearch" and delivery["attempted"] == 1
    assert len(delivery["failures"]) == 1  # nothing listens there: refused, and said so
    assert code == INPUT


# ------------------------------------------------------------------ what a person sees


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("flags", "drawn"),
    [((), True), (("-q",), False), (("--no-progress",), False), (("-q", "--no-progress"), False)],
)
def test_progress_is_drawn_on_a_terminal_unless_quiet_or_switched_off(
    flags: tuple[str, ...],
    drawn: bool,
    asa_log: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.delenv("NO_COLOR", raising=False)
    argv = ["firewall", str(asa_log), "--no-cache", "-o", str(tmp_path / "r.txt"), *flags]
    assert _triage.run_triage(build_parser().parse_args(argv)) == OK
    assert bool(re.search(r"read [\d,]+ lines", terminal.getvalue())) is drawn  # the bar


@contextlib.contextmanager
def _unconfigured_root_logger() -> Iterator[None]:
    """The root logger as in a fresh process: pytest gives it capturing handlers per phase."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    root.handlers.clear()
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def test_log_level_shows_the_librarys_records_on_stderr(
    asa_log: Path,
    tmp_path: Path,
    provider_simulator_env: ProviderSimulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    provider_simulator_env.openai.script(
        Fault.server_error(500), claims(scan_incident(), evidence_event_ids=[])
    )
    argv = ["firewall", str(asa_log), "--analysts", "rules,openai", "--no-cache", "-q"]
    argv += ["-o", str(tmp_path / "r.txt"), "--log-level", "info"]
    with _unconfigured_root_logger():
        assert _triage.run_triage(build_parser().parse_args(argv)) == OK
    err = capsys.readouterr().err
    assert re.search(r"siem-consensus: INFO openai: attempt 1 failed \(500\); retrying", err)
