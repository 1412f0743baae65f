"""The ids, insider and review commands end to end."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from siem_consensus.cli import main
from siem_consensus.generators.ids import write_scenario_2
from siem_consensus.generators.insider import generate_insider_dataset
from siem_consensus.graphs.approval import SqliteActionLog


def test_ids_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    eve = tmp_path / "eve.json"
    write_scenario_2(eve, seed=7)
    members = tmp_path / "members.csv"
    assert main(["ids", str(eve), "--format", "json", "--members", str(members)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["detector"] == "ids" and report["policy"] == "majority"
    alerts = [d for d in report["decisions"] if d["outcome"] == "alert"]
    assert len(alerts) == 1
    rows = members.read_text().splitlines()[1:]
    assert sum(1 for r in rows if r.endswith(alerts[0]["incident_id"])) == 9


def test_insider_then_review(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    generate_insider_dataset(tmp_path / "cert", seed=7)
    dbs = [
        "--checkpoint",
        str(tmp_path / "runs.sqlite"),
        "--actions-log",
        str(tmp_path / "actions.sqlite"),
    ]
    assert main(["insider", str(tmp_path / "cert"), "--format", "json", *dbs]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["detector"] == "insider" and report["pending_approvals"]
    assert "pending approval" in captured.err
    assert main(["review", "list", *dbs]) == 0
    listing = capsys.readouterr().out
    blocks = [b.splitlines() for b in re.split(r"\n(?=\S)", listing.strip())]
    assert len(blocks) == len(report["pending_approvals"])
    [bob, *_] = [b for b in blocks if b[0].split("  ")[1] == "users=bob.engineer"]
    approval_id = bob[0].split()[0]
    assert any(line.startswith("    ") and ". Preserve evidence" in line for line in bob[1:])
    assert main(["review", "approve", approval_id, *dbs]) == 2  # --by is required
    assert "--by" in capsys.readouterr().err
    action = "Preserve evidence: endpoint image, file access and proxy logs, mailbox"
    assert main(["review", "approve", approval_id, "--action", action, "--by", "alice", *dbs]) == 0
    assert f"approved and recorded: {action}" in capsys.readouterr().out
    entries = SqliteActionLog(tmp_path / "actions.sqlite").entries()
    assert [(e["action"], e["approved_by"]) for e in entries] == [(action, "alice")]
    assert main(["review", "approve", approval_id, "--by", "alice", *dbs]) == 2  # not pending
    assert main(["review", "list", *dbs]) == 0
    assert approval_id not in capsys.readouterr().out
