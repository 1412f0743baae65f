"""A reviewer's process killed (SIGKILL) at each step of answering an approval.

The alert has two actions. The reviewer (alice approves both) dies after her answer is stored,
after the resume started, after action 1 of 2 is recorded, after both are recorded, or after
the task finished but before its checkpoint. Then: any other answer is refused with what was
already recorded; alice's same answer, re-sent, completes it with each action recorded once;
the checkpoint's other alert is answered as if nothing happened.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest
from approval_app import (
    ACTIONS,
    THREAD,
    build_small,
    decide,
    memory_dir,
    processes,
    start_small,
)
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from siem_consensus.graphs.approval import SqliteActionLog
from siem_consensus.review import AlreadyAnsweredError, decide_approval, list_pending

WAIT = 120  # seconds; every wait on a child process is bounded
ID = f"{THREAD}/ins-1"
RECORDED_AT_DEATH = {
    "stored": [],
    "before-1": [],
    "after-1": ACTIONS[:1],
    "after-2": ACTIONS,
    "writes": ACTIONS,
    "checkpoint": ACTIONS,
}
# The answered task had finished and LangGraph saved its writes: the alert is not pending.
# (At "checkpoint" the step's last task's writes go with the checkpoint: it is still pending.)
FINISHED_AT_DEATH = {"writes"}


def _child(db: Path, log: Path, die_at: str) -> Any:
    """Alice's reviewer process, approving both actions of ins-1 and dying at ``die_at``."""
    proc = processes().Process(
        target=decide, args=(str(db), str(log), ID, "alice", die_at, ACTIONS), daemon=True
    )
    proc.start()
    return proc


def _exit_code(proc: Any) -> int:
    proc.join(timeout=WAIT)
    if proc.exitcode is None:
        proc.kill()
        proc.join(timeout=WAIT)
        raise AssertionError(f"the reviewer process did not end in {WAIT}s")
    code: int = proc.exitcode
    return code


@contextmanager
def _review_lock_held(db: Path) -> Iterator[None]:
    """Hold the lock ``decide_approval`` takes after storing its answer, before resuming."""
    lock = sqlite3.connect(f"{db}.review-lock", isolation_level=None)
    try:
        lock.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        lock.close()


def _answer_stored(db: Path) -> bool:
    with closing(sqlite3.connect(db, timeout=30)) as con:
        table = con.execute("SELECT 1 FROM sqlite_master WHERE name = 'approval_answers'")
        if table.fetchone() is None:
            return False
        return con.execute("SELECT count(*) FROM approval_answers").fetchone()[0] == 1


def _kill_after_the_answer_is_stored(db: Path, log: Path) -> int:
    with _review_lock_held(db):
        proc = _child(db, log, "never")
        deadline = time.monotonic() + WAIT
        while not _answer_stored(db):
            assert proc.is_alive(), f"the reviewer ended ({proc.exitcode}) without waiting"
            assert time.monotonic() < deadline, "the child never stored its answer"
            time.sleep(0.02)
        proc.kill()
        return _exit_code(proc)


def _decide(
    db: Path, log: Path, approval_id: str, approve: list[str], by: str
) -> dict[str, object]:
    return decide_approval(
        db,
        lambda s: build_small(s, str(log)),
        approval_id,
        approve=approve,
        by=by,
        action_log=SqliteActionLog(log),
    )


@pytest.fixture(scope="module")
def crashed(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, tuple[Path, Path, int]]]:
    """One checkpoint per kill point, with alice's reviewer process killed at that point."""
    with memory_dir(tmp_path_factory.mktemp("crashes")) as root:
        dbs = {
            step: (root / f"{step}.sqlite", root / f"{step}-actions.sqlite")
            for step in RECORDED_AT_DEATH
        }
        for db, log in dbs.values():
            asyncio.run(start_small(db, log, count=2))
        # Answer the other alert first, so that alice's answer finishes the step (a checkpoint).
        _decide(*dbs["checkpoint"], f"{THREAD}/ins-2", [], "carol")
        procs = {s: _child(*dbs[s], s) for s in RECORDED_AT_DEATH if s != "stored"}
        codes = {"stored": _kill_after_the_answer_is_stored(*dbs["stored"])}
        codes |= {step: _exit_code(proc) for step, proc in procs.items()}
        yield {step: (*dbs[step], codes[step]) for step in RECORDED_AT_DEATH}


@pytest.mark.timeout(600)
@pytest.mark.parametrize("step", list(RECORDED_AT_DEATH))
def test_after_a_crash_only_the_same_answer_completes(
    crashed: dict[str, tuple[Path, Path, int]], step: str
) -> None:
    db, log, code = crashed[step]
    assert code == -9  # killed (SIGKILL), not finished (0) nor failed (1)
    before = RECORDED_AT_DEATH[step]
    actions = SqliteActionLog(log)
    assert actions.recorded(THREAD, "ins-1") == before
    pending = {p.incident_id: p for p in list_pending(db, lambda s: build_small(s, str(log)))}
    if step in FINISHED_AT_DEATH:
        assert "ins-1" not in pending
    else:
        assert pending["ins-1"].answered_by == "alice" and pending["ins-1"].answered_at

    for by, approve in (("bob", []), ("bob", ACTIONS), ("alice", ACTIONS[1:])):
        with pytest.raises(AlreadyAnsweredError, match="answered by alice at .* did not finish"):
            _decide(db, log, ID, approve, by)
    try:
        _decide(db, log, ID, [], "bob")
    except AlreadyAnsweredError as exc:
        assert exc.recorded == before and not exc.completed and exc.approved == ACTIONS
    assert actions.recorded(THREAD, "ins-1") == before  # refusals wrote nothing

    final = _decide(db, log, ID, ACTIONS, "alice")  # the same answer, re-sent
    entries = actions.entries()
    assert [(e["incident_id"], e["action"], e["approved_by"]) for e in entries] == [
        ("ins-1", action, "alice") for action in ACTIONS
    ]
    mine = [e for e in final["actions_log"] if e["incident_id"] == "ins-1"]
    if step not in FINISHED_AT_DEATH:  # the task ran (again) in this resume
        assert [e["action"] for e in mine] == ACTIONS
        assert [e["newly_recorded"] for e in mine] == [a not in before for a in ACTIONS]

    with pytest.raises(AlreadyAnsweredError, match="answered by alice") as info:
        _decide(db, log, ID, ACTIONS, "alice")
    assert info.value.completed
    if "ins-2" in pending:
        assert pending["ins-2"].answered_by is None
        _decide(db, log, f"{THREAD}/ins-2", [], "carol")  # the other alert was never blocked
    assert list_pending(db, lambda s: build_small(s, str(log))) == []
    assert len(actions.entries()) == len(ACTIONS)
    state = asyncio.run(_values(db, log))  # the graph holds alice's answer, once
    assert state["approvals"]["ins-1"]["approve"] == ACTIONS
    assert [e["action"] for e in state["actions_log"] if e["incident_id"] == "ins-1"] == ACTIONS


async def _values(db: Path, log: Path) -> dict[str, Any]:
    async with AsyncSqliteSaver.from_conn_string(str(db)) as saver:
        graph = build_small(saver, str(log))
        state = await graph.aget_state({"configurable": {"thread_id": THREAD}})
    return dict(state.values)
