"""Human approval: interrupt per alert, survive a killed process, answer once, record once."""

from __future__ import annotations

import asyncio
import os
import selectors
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from approval_app import ACTIONS, THREAD, build, build_small, start_small
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.types import Command

from siem_consensus.errors import UsageError
from siem_consensus.generators.firewall import scenario_1
from siem_consensus.graphs.approval import SqliteActionLog, validate_answer
from siem_consensus.graphs.nodes import TriageContext
from siem_consensus.review import AlreadyAnsweredError, decide_approval, list_pending

HERE = Path(__file__).parent
WAIT = 60  # seconds; every wait on a child process is bounded


def _read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    """One line of the child's stdout, or fail after ``timeout`` seconds."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            raise AssertionError(f"no output from the child within {timeout}s")
    return proc.stdout.readline()


def _start_and_kill(db: Path, log: Path) -> None:
    env = {**os.environ, "PYTHONPATH": f"{HERE}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "approval_app.py"), "start", str(db), str(log)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert _read_line(proc, WAIT).strip() == "PENDING"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=WAIT)
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.mark.timeout(180)
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
    with pytest.raises(AlreadyAnsweredError, match="already answered by alice at 20"):
        decide_approval(db, lambda s: build(s, str(log)), pending.id, approve=[chosen], by="bob")
    assert len(SqliteActionLog(log).entries()) == 1


def test_execute_is_idempotent_when_replayed(tmp_path: Path) -> None:
    log = SqliteActionLog(tmp_path / "actions.sqlite")
    assert log.record("t", "i", "disable account", "alice", "") is True
    assert log.record("t", "i", "disable account", "alice", "") is False
    assert len(log.entries()) == 1
    assert log.recorded("t", "i") == ["disable account"] and log.recorded("t", "j") == []


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


@pytest.fixture
def two_alerts(tmp_path: Path) -> tuple[Path, Path]:
    db, log = tmp_path / "runs.sqlite", tmp_path / "actions.sqlite"
    asyncio.run(start_small(db, log, count=2))
    return db, log


def _decide(db: Path, log: Path, incident: str, approve: list[str], by: str) -> dict[str, Any]:
    return decide_approval(
        db,
        lambda s: build_small(s, str(log)),
        f"{THREAD}/{incident}",
        approve=approve,
        by=by,
        action_log=SqliteActionLog(log),
    )


def test_a_typo_writes_nothing_and_never_blocks_other_alerts(two_alerts: tuple[Path, Path]) -> None:
    db, log = two_alerts
    with pytest.raises(UsageError, match="exactly one of this alert's recommended actions"):
        _decide(db, log, "ins-1", ["Preserve evidence"], "alice")
    assert SqliteActionLog(log).entries() == []
    assert len(list_pending(db, lambda s: build_small(s, str(log)))) == 2
    final = _decide(db, log, "ins-2", [], "bob")  # another alert: unaffected
    assert final["approvals"]["ins-2"]["reject"] == ACTIONS
    final = _decide(db, log, "ins-1", [ACTIONS[0]], "alice")  # the typo did not consume it
    assert SqliteActionLog(log).recorded(THREAD, "ins-1") == [ACTIONS[0]]
    assert SqliteActionLog(log).recorded(THREAD, "ins-2") == []
    assert list_pending(db, lambda s: build_small(s, str(log))) == []


def test_a_second_answer_names_who_answered_and_when(two_alerts: tuple[Path, Path]) -> None:
    db, log = two_alerts
    _decide(db, log, "ins-1", [], "bob")
    for by, approve in (("alice", ACTIONS), ("bob", ACTIONS), ("bob", []), ("x", ["typo"])):
        with pytest.raises(AlreadyAnsweredError, match=r"answered by bob at 20\d\d-") as info:
            _decide(db, log, "ins-1", approve, by)
        assert info.value.answered_by == "bob" and info.value.approved == []
        assert info.value.recorded == [] and info.value.completed
    assert SqliteActionLog(log).entries() == []
    assert [p.incident_id for p in list_pending(db, lambda s: build_small(s, str(log)))] == [
        "ins-2"
    ]


def test_an_invalid_answer_sent_to_the_graph_asks_again(two_alerts: tuple[Path, Path]) -> None:
    db, log = two_alerts
    config: Any = {"configurable": {"thread_id": THREAD}}

    async def run() -> None:
        async with AsyncSqliteSaver.from_conn_string(str(db)) as saver:
            graph = build_small(saver, str(log))
            state = await graph.aget_state(config)
            first = {i.value["incident_id"]: i.id for i in state.interrupts}
            bad = Command(resume={first["ins-1"]: {"approve": ["Preserve"], "by": "alice"}})
            await graph.ainvoke(bad, config)
            state = await graph.aget_state(config)
            again = {i.value["incident_id"]: i for i in state.interrupts}
            assert "unknown action" in again["ins-1"].value["error"]
            good = Command(resume={first["ins-2"]: {"approve": [ACTIONS[1]], "by": "bob"}})
            final = await graph.ainvoke(good, config)  # the other alert is not blocked
            assert final["approvals"]["ins-2"]["approve"] == [ACTIONS[1]]

    asyncio.run(run())
    assert SqliteActionLog(log).recorded(THREAD, "ins-2") == [ACTIONS[1]]
    assert SqliteActionLog(log).recorded(THREAD, "ins-1") == []


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ("approve", "must be a mapping"),
        ({"approve": ACTIONS[0], "by": "a"}, "must be a list"),
        ({"approve": [1], "by": "a"}, "strings"),
        ({"approve": [ACTIONS[0].upper()], "by": "a"}, "unknown action"),
        ({"approve": [ACTIONS[0] + " "], "by": "a"}, "unknown action"),
        ({"approve": [ACTIONS[0]], "reject": [ACTIONS[0]], "by": "a"}, "both approved"),
        ({"approve": []}, "needs 'by'"),
        ({"approve": [], "by": "  "}, "needs 'by'"),
    ],
)
def test_validate_answer_refuses(raw: Any, match: str) -> None:
    with pytest.raises(UsageError, match=match):
        validate_answer(raw, ACTIONS)


def test_validate_answer_normalises() -> None:
    answer = validate_answer({"approve": [ACTIONS[1], ACTIONS[1]], "by": " alice "}, ACTIONS)
    assert answer == {"approve": [ACTIONS[1]], "reject": [ACTIONS[0]], "by": "alice", "note": ""}


def test_unknown_action_in_an_answer_is_refused(two_alerts: tuple[Path, Path]) -> None:
    db, log = two_alerts
    with pytest.raises(UsageError, match="unknown action"):
        _decide(db, log, "ins-1", ["rm -rf /"], "x")
    with pytest.raises(UsageError, match="THREAD/INCIDENT"):
        decide_approval(db, lambda s: build_small(s, str(log)), "ins-1", by="x")
    with pytest.raises(UsageError, match="no pending approval 'night-shift/ins-9'"):
        _decide(db, log, "ins-9", [], "x")
