"""``siem-consensus review``: each effect read back from the action log, not from the output."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from siem_consensus.cli import main
from siem_consensus.generators.insider import generate_insider_dataset
from siem_consensus.graphs.approval import SqliteActionLog
from siem_consensus.graphs.insider import build_insider_graph
from siem_consensus.review import list_pending

EXACT = "Preserve evidence: endpoint image, file access and proxy logs, mailbox"


@pytest.fixture(scope="module")
def insider_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One insider run whose alerts wait for approval (copied by each test)."""
    root = tmp_path_factory.mktemp("insider")
    generate_insider_dataset(root / "cert", seed=7)
    runs = root / "runs.sqlite"
    code = main(["insider", str(root / "cert"), "--checkpoint", str(runs), "-o", "/dev/null"])
    assert code == 0 and not Path(f"{runs}-wal").exists()
    return runs


@pytest.fixture
def review(
    insider_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[list[str], list[str], Path]:
    """(the two first pending ids, the db flags for ``review``, the action log)."""
    runs, log = tmp_path / "runs.sqlite", tmp_path / "actions.sqlite"
    shutil.copyfile(insider_run, runs)
    dbs = ["--checkpoint", str(runs), "--actions-log", str(log)]
    assert main(["review", "list", *dbs]) == 0
    ids = [line.split()[0] for line in capsys.readouterr().out.splitlines() if "users=" in line]
    assert len(ids) >= 2
    return ids[:2], dbs, log


def _pending_ids(dbs: list[str], capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["review", "list", *dbs]) == 0
    return [line.split()[0] for line in capsys.readouterr().out.splitlines() if "users=" in line]


def test_review_reject_records_nothing_and_answers_once(
    review: tuple[list[str], list[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    (first, second), dbs, log = review
    assert main(["review", "reject", first, "--by", "bob", "--note", "false positive", *dbs]) == 0
    assert f"rejected all actions of {first}; nothing recorded" in capsys.readouterr().out
    assert SqliteActionLog(log).entries() == []
    assert first not in _pending_ids(dbs, capsys) and second in _pending_ids(dbs, capsys)

    assert main(["review", "approve", first, "--by", "alice", *dbs]) == 2
    err = capsys.readouterr().err
    assert f"{first} was already answered by bob at 20" in err and "rejected every action" in err
    assert SqliteActionLog(log).entries() == []
    assert main(["review", "reject", second, "--action", EXACT, "--by", "bob", *dbs]) == 2
    assert "reject takes no --action" in capsys.readouterr().err
    assert second in _pending_ids(dbs, capsys)


def test_an_action_typo_is_refused_and_blocks_nothing(
    review: tuple[list[str], list[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    (first, second), dbs, log = review
    typo = ["review", "approve", first, "--action", "Preserve evidence", "--by", "alice", *dbs]
    assert main(typo) == 2
    err = capsys.readouterr().err
    assert "unknown action(s) ['Preserve evidence']" in err and repr(EXACT) in err
    assert SqliteActionLog(log).entries() == []
    assert main(["review", "reject", second, "--by", "bob", *dbs]) == 0  # another alert
    capsys.readouterr()
    assert main(["review", "approve", first, "--action", EXACT, "--by", "alice", *dbs]) == 0
    assert f"approved and recorded: {EXACT} ({first.rpartition('/')[2]})" in capsys.readouterr().out
    entries = SqliteActionLog(log).entries()
    assert [(e["incident_id"], e["action"], e["approved_by"]) for e in entries] == [
        (first.rpartition("/")[2], EXACT, "alice")
    ]


def test_review_approve_without_action_approves_each_listed_action(
    review: tuple[list[str], list[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    (first, _), dbs, log = review
    runs = Path(dbs[1])
    [item] = [
        p
        for p in list_pending(runs, lambda s: build_insider_graph(checkpointer=s))
        if p.id == first
    ]
    assert main(["review", "approve", first, "--by", "alice", *dbs]) == 0
    assert SqliteActionLog(log).recorded(item.thread_id, item.incident_id) == item.actions
