"""Human approval: interrupt per alert, survive a killed process, record actions exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from approval_app import build
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.types import Command

from siem_consensus.errors import UsageError
from siem_consensus.generators.firewall import scenario_1
from siem_consensus.graphs.approval import SqliteActionLog
from siem_consensus.graphs.nodes import TriageContext
from siem_consensus.review import decide_approval, list_pending

HERE = Path(__file__).parent


def _start_and_kill(db: Path, log: Path) -> None:
    env = {**os.environ, "PYTHONPATH": f"{HERE}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "approval_app.py"), str(db), str(log)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "PENDING"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()


def test_killed_while_pending_then_approved_once(tmp_path: Path) -> None:
    db, log = tmp_path / "runs.sqlite", tmp_path / "actions.sqlite"
    _start_and_kill(db, log)
    [pending] = list_pending(db, lambda saver: build(saver, str(log)))
    assert pending.id == f"night-shift/{pending.incident_id}" and pending.actions
    chosen = pending.actions[0]
    final = decide_approval(
        db,
        lambda s: build(s, str(log)),
        pending.id,
        approve=[chosen],
        by="alice",
        note="confirmed with the network team",
    )
    assert [a["action"] for a in final["actions_log"]] == [chosen]
    assert final["approvals"][pending.incident_id]["reject"] == pending.actions[1:]
    entries = SqliteActionLog(log).entries()
    assert [(e["action"], e["approved_by"]) for e in entries] == [(chosen, "alice")]
    assert list_pending(db, lambda s: build(s, str(log))) == []
    with pytest.raises(UsageError, match="no pending approval"):
        decide_approval(db, lambda s: build(s, str(log)), pending.id, approve=[chosen], by="bob")
    assert len(SqliteActionLog(log).entries()) == 1


def test_execute_is_idempotent_when_replayed(tmp_path: Path) -> None:
    log = SqliteActionLog(tmp_path / "actions.sqlite")
    assert log.record("t", "i", "disable account", "alice", "") is True
    assert log.record("t", "i", "disable account", "alice", "") is False
    assert len(log.entries()) == 1


def test_rejecting_everything_records_nothing(tmp_path: Path) -> None:
    db, log = str(tmp_path / "runs.sqlite"), str(tmp_path / "actions.sqlite")
    config: Any = {"configurable": {"thread_id": "t"}}

    async def run() -> dict[str, Any]:
        async with AsyncSqliteSaver.from_conn_string(db) as saver:
            graph = build(saver, log)
            context = TriageContext(inline_sources=[scenario_1(seed=7)])
            first = await graph.ainvoke({"input_format": "asa"}, config, context=context)
            assert "__interrupt__" in first
            result: dict[str, Any] = await graph.ainvoke(Command(resume={"by": "bob"}), config)
            return result

    final = asyncio.run(run())
    assert final["actions_log"] == [] and SqliteActionLog(log).entries() == []


def test_unknown_action_in_an_answer_is_refused(tmp_path: Path) -> None:
    db, log = tmp_path / "runs.sqlite", tmp_path / "actions.sqlite"
    _start_and_kill(db, log)
    [pending] = list_pending(db, lambda s: build(s, str(log)))
    with pytest.raises(UsageError, match="unknown action"):
        decide_approval(db, lambda s: build(s, str(log)), pending.id, approve=["rm -rf /"], by="x")
