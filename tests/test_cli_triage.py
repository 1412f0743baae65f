"""The detector commands (``cli/_triage.py``): how ``--budget`` is read, and the closing summary
on stderr (what each sink did, what waits for approval, the exit code when a sink refused)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from siem_consensus.cli import _triage
from siem_consensus.cli._exit import INPUT, OK
from siem_consensus.cli._options import build_parser
from siem_consensus.errors import UsageError
from siem_consensus.graphs.approval import SqliteActionLog
from siem_consensus.models import WriteFailure, WriteResult
from siem_consensus.report import Report


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("200000", (200_000, None)),
        (" 200,000 ", (200_000, None)),
        ("200_000tok", (200_000, None)),
        ("200000TOKENS", (200_000, None)),
        ("$5", (None, 5.0)),
        ("$1,000.5", (None, 1000.5)),
        (" 2.5USD ", (None, 2.5)),
        ("$2.5usd", (None, 2.5)),
    ],
)
def test_budget_is_tokens_or_dollars(text: str, expected: tuple[int | None, float | None]) -> None:
    assert _triage.parse_budget(text) == expected


@pytest.mark.parametrize("text", ["lots", "5 dollars", "$", "1.5tok", "tok"])
def test_a_budget_that_is_neither_names_both_forms(text: str) -> None:
    with pytest.raises(UsageError, match=r"^--budget .* is neither tokens \(200000 or 200000tok\)"):
        _triage.parse_budget(text)


def _failure(n: int, reason: str) -> WriteFailure:
    return WriteFailure(doc_id=f"doc-{n}", incident_id=f"fw-{n}", status=400, reason=reason)


def test_every_sink_is_summarised_and_a_clean_run_is_ok(capsys: pytest.CaptureFixture[str]) -> None:
    results = (
        WriteResult(connector="opensearch", target="alerts", attempted=3, created=2, updated=1),
        WriteResult(connector="splunk", target="", attempted=0),
    )
    code = _triage._deliveries(Report(deliveries=results))
    assert code == OK
    assert capsys.readouterr().err.splitlines() == [
        "opensearch alerts: 2 created, 1 updated, 0 failed of 3",
        "splunk (not reached): 0 created, 0 updated, 0 failed of 0",
    ]


def test_a_sink_error_is_shown_and_exits_with_the_input_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    down = WriteResult(connector="kafka", target="t", attempted=2, error="broker unreachable")
    code = _triage._deliveries(Report(deliveries=(down,)))
    assert code == INPUT
    assert capsys.readouterr().err.splitlines() == [
        "kafka t: 0 created, 0 updated, 0 failed of 2",
        "  broker unreachable",
    ]


def test_one_refused_document_is_named_with_its_reason(capsys: pytest.CaptureFixture[str]) -> None:
    one = WriteResult(
        connector="es", target="i", attempted=2, created=1, failures=(_failure(1, "bad"),)
    )
    assert _triage._deliveries(Report(deliveries=(one,))) == INPUT
    assert capsys.readouterr().err.splitlines() == [
        "es i: 1 created, 0 updated, 1 failed of 2",
        "  fw-1: bad",
    ]


def test_failures_sharing_one_reason_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    _triage._print_failures([_failure(n, "index closed") for n in range(3)])
    assert capsys.readouterr().err == "  all 3: index closed\n"


def test_different_reasons_show_the_first_few_and_count_the_rest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    failures = [_failure(n, f"reason {n}") for n in range(7)]
    failures[0] = WriteFailure(doc_id="doc-only", reason="no incident id")
    _triage._print_failures(failures)
    assert capsys.readouterr().err.splitlines() == [
        "  doc-only: no incident id",
        *(f"  fw-{n}: reason {n}" for n in range(1, 5)),
        "  ... 2 more in the report's deliveries",
    ]
    _triage._print_failures(failures[:5])
    assert "more in the report" not in capsys.readouterr().err


def test_pending_approvals_are_listed_with_the_review_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    pending = ({"thread_id": "insider-1", "incident_id": "ins-7", "actions": ["a", "b"]},)
    assert _triage._deliveries(Report(pending_approvals=pending)) == OK
    assert capsys.readouterr().err == (
        "pending approval insider-1/ins-7: 2 action(s); run: siem-consensus review list\n"
    )


# ------------------------------------------------------------------ the run's settings


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def test_ids_flags_become_the_runs_inventory_intel_policy_and_threshold(tmp_path: Path) -> None:
    inventory = tmp_path / "assets.csv"
    inventory.write_text("network,zone,criticality\n10.9.0.0/16,payments,critical\n")
    (tmp_path / "feodo.txt").write_text("203.0.113.9\n")
    (tmp_path / "spamhaus.txt").write_text("198.51.100.0/24\n")
    args = _args(
        "ids", "x.log", "--inventory", str(inventory),
        "--intel", str(tmp_path / "feodo.txt"), str(tmp_path / "spamhaus.txt"),
        "--policy", "weighted", "--threshold", "0.66",
    )  # fmt: skip
    extra = _triage._extra(args)
    assert set(extra) == {"thresholds", "inventory", "intel", "policy", "threshold"}
    assert extra["thresholds"] is None
    assert extra["inventory"].zone("10.9.1.1") == "payments"
    assert [h.source for h in extra["intel"].lookup("203.0.113.9")] == ["feodo"]
    assert [h.source for h in extra["intel"].lookup("198.51.100.7")] == ["spamhaus"]
    assert (extra["policy"], extra["threshold"]) == ("weighted", 0.66)


def test_without_flags_a_run_gets_only_the_detectors_own_settings() -> None:
    assert _triage._extra(_args("firewall", "x.log")) == {"thresholds": None}
    assert _triage._extra(_args("ids", "x.log")) == {"thresholds": None}
    zero = _triage._extra(_args("firewall", "x.log", "--threshold", "0"))
    assert zero == {"thresholds": None, "threshold": 0.0}


def test_insider_runs_keep_checkpoints_and_record_approved_actions(tmp_path: Path) -> None:
    runs, log = tmp_path / "runs.sqlite", tmp_path / "actions.sqlite"
    args = _args("insider", "cert", "--checkpoint", str(runs), "--actions-log", str(log))
    extra = _triage._extra(args)
    assert extra["checkpointer"] == str(runs)
    assert isinstance(extra["action_sink"], SqliteActionLog) and extra["action_sink"].path == log
    assert re.fullmatch(r"insider-\d{8}T\d{6}", extra["thread_id"])
    assert "policy" not in extra and "threshold" not in extra


def test_a_thresholds_file_is_read_from_the_commands_table_or_the_top(tmp_path: Path) -> None:
    table = tmp_path / "t.toml"
    table.write_text("port_scan_ports = 7\n[firewall]\nport_scan_ports = 20\n")
    assert _triage._thresholds("firewall", str(table)).port_scan_ports == 20
    top = tmp_path / "top.toml"
    top.write_text("port_scan_ports = 9\n")
    assert _triage._thresholds("firewall", str(top)).port_scan_ports == 9
    assert _triage._thresholds("firewall", None) is None
    missing = tmp_path / "none.toml"
    with pytest.raises(UsageError, match=rf"^--thresholds {re.escape(str(missing))}: .*No such"):
        _triage._thresholds("firewall", str(missing))
    top.write_text("port_scan_ports = [\n")
    with pytest.raises(UsageError, match=r"^--thresholds .*top\.toml: Invalid value"):
        _triage._thresholds("firewall", str(top))
    top.write_text("port_scan_ports = 'many'\n")
    with pytest.raises(UsageError, match=r"(?s)^--thresholds .*top\.toml: .*port_scan_ports"):
        _triage._thresholds("firewall", str(top))


def test_llm_settings_carry_the_budget_and_the_cache(tmp_path: Path) -> None:
    args = _args("firewall", "x.log", "--budget", "$2.5", "--cache", str(tmp_path / "c.sqlite"))
    settings = _triage._llm_settings(args)
    try:
        assert (settings.budget.max_tokens, settings.budget.max_cost_usd) == (None, 2.5)
        assert settings.cache.path == tmp_path / "c.sqlite"
    finally:
        settings.cache.close()
    tokens = _triage._llm_settings(_args("firewall", "x.log", "--budget", "900", "--no-cache"))
    assert (tokens.budget.max_tokens, tokens.budget.max_cost_usd, tokens.cache) == (900, None, None)
    none = _triage._llm_settings(_args("firewall", "x.log", "--no-cache"))
    assert (none.budget, none.cache) == (None, None)


@pytest.mark.parametrize(
    "option", ["--output", "--members", "--dead-letters"], ids=lambda o: o.strip("-")
)
def test_an_unwritable_output_is_named_by_its_flag_before_any_work(
    option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no" / "out.txt"
    args = _args("firewall", str(tmp_path / "never-read.log"), option, str(missing))
    with pytest.raises(UsageError, match=rf"^{option} {re.escape(str(missing))}: folder "):
        _triage.run_triage(args)
    assert capsys.readouterr().err == ""
