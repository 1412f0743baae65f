"""Pending human approvals in a SQLite checkpoint: list them, answer each exactly once.

Works with any triage graph compiled with ``approval=True`` (the insider graph by default).
A pending approval is identified as ``<thread_id>/<incident_id>``.

An approval is answered once. :func:`decide_approval` checks the answer completely against the
alert's actions (nothing is written when it is wrong), then stores it in the checkpoint
database with an ``INSERT`` that fails when the alert already has an answer (a compare-and-set:
of two reviewers answering at the same moment exactly one wins, the other gets
:class:`AlreadyAnsweredError` naming who answered and when), and only then resumes the graph
with the stored answer. Resumes of one checkpoint database are serialized by a lock file
beside it (``<db>.review-lock``), released by the operating system if the process dies.

After a crash between storing the answer and the end of the resume, the same answer (same
reviewer, same actions) re-sent completes what is left, each action recorded once by the
idempotent action sink; any other answer is refused with what was already recorded.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command
from pydantic import BaseModel

from .errors import RuntimeFailure, UsageError
from .graphs.approval import RecordedActions, validate_answer
from .runner import run_sync

__all__ = ["AlreadyAnsweredError", "PendingApproval", "decide_approval", "list_pending"]

GraphBuilder = Callable[[BaseCheckpointSaver[Any]], CompiledStateGraph[Any, Any, Any, Any]]
Graph = CompiledStateGraph[Any, Any, Any, Any]

_TABLE = (
    "CREATE TABLE IF NOT EXISTS approval_answers (thread_id TEXT NOT NULL, incident_id TEXT "
    "NOT NULL, interrupt_id TEXT NOT NULL, approve TEXT NOT NULL, reject TEXT NOT NULL, "
    "answered_by TEXT NOT NULL, note TEXT NOT NULL, answered_at TEXT NOT NULL, "
    "completed_at TEXT, PRIMARY KEY (thread_id, incident_id, interrupt_id))"
)


class PendingApproval(BaseModel):
    """One alert waiting for a human decision on its recommended actions."""

    id: str
    thread_id: str
    interrupt_id: str
    incident_id: str
    title: str
    users: list[str]
    confidence: float | None
    actions: list[str]
    answered_by: str | None = None
    """Set when an answer is stored but its resume did not finish (the process died)."""
    answered_at: str | None = None
    """When that unfinished answer was stored (UTC, ISO 8601)."""


@dataclass(frozen=True)
class _Answer:
    thread_id: str
    incident_id: str
    interrupt_id: str
    approve: list[str]
    reject: list[str]
    by: str
    note: str
    answered_at: str
    completed_at: str | None

    def resume_value(self) -> dict[str, Any]:
        return {"approve": self.approve, "by": self.by, "note": self.note}

    def same(self, answer: dict[str, Any]) -> bool:
        """Whether ``answer`` (validated) is this one re-sent: same reviewer, same actions."""
        return self.by == answer["by"] and self.approve == list(answer["approve"])


class AlreadyAnsweredError(UsageError):
    """The approval already has an answer; this one was refused and nothing was written.

    Attributes:
        answered_by: Who gave the answer that stands.
        answered_at: When it was stored (UTC, ISO 8601).
        approved: The actions it approved (the others are rejected).
        recorded: The actions the action log holds for the alert (``None`` if not asked).
        completed: False when the answer's resume did not finish (the process died): only
            the same answer re-sent can complete it.
    """

    def __init__(self, approval_id: str, answer: _Answer, recorded: list[str] | None) -> None:
        self.answered_by, self.answered_at = answer.by, answer.answered_at
        self.approved, self.recorded = answer.approve, recorded
        self.completed = answer.completed_at is not None
        what = f"approved {answer.approve}" if answer.approve else "rejected every action"
        done = "" if recorded is None else f"; recorded so far: {recorded or 'nothing'}"
        tail = (
            ""
            if self.completed
            else f"; its resume did not finish: only the same answer (by {answer.by}, the "
            "same actions) can complete it"
        )
        super().__init__(
            f"{approval_id} was already answered by {answer.by} at {answer.answered_at} "
            f"({what}){done}{tail}"
        )


class _AnswerStore:
    """The answers table in the checkpoint database: one row per answered interrupt."""

    _COLUMNS = (
        "thread_id, incident_id, interrupt_id, approve, reject, answered_by, note, "
        "answered_at, completed_at"
    )

    def __init__(self, db: str | os.PathLike[str]) -> None:
        self._db = sqlite3.connect(os.fspath(db), timeout=30, isolation_level=None)
        self._db.execute(_TABLE)

    def close(self) -> None:
        self._db.close()

    def claim(self, item: PendingApproval, answer: dict[str, Any]) -> tuple[_Answer, bool]:
        """Store ``answer`` unless the interrupt has one: (the answer that stands, stored?).

        The compare-and-set: the primary key makes a second ``INSERT`` fail, atomically,
        whichever process or connection tries it.
        """
        key = (item.thread_id, item.incident_id, item.interrupt_id)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            self._db.execute(
                "INSERT INTO approval_answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                (
                    *key,
                    *(json.dumps(answer["approve"]), json.dumps(answer["reject"])),
                    *(answer["by"], answer["note"], now),
                ),
            )
        except sqlite3.IntegrityError:
            stored = self.get(*key)
            assert stored is not None  # rows are never deleted
            return stored, False
        fields = (answer["approve"], answer["reject"], answer["by"], answer["note"])
        return _Answer(*key, *fields, now, None), True

    def get(self, thread: str, incident: str, interrupt_id: str | None = None) -> _Answer | None:
        """The answer to one interrupt, or the latest answer about the incident."""
        sql = (
            f"SELECT {self._COLUMNS} FROM approval_answers WHERE thread_id = ? AND incident_id = ?"
        )
        args: tuple[str, ...] = (thread, incident)
        if interrupt_id is not None:
            sql, args = f"{sql} AND interrupt_id = ?", (*args, interrupt_id)
        row = self._db.execute(f"{sql} ORDER BY rowid DESC LIMIT 1", args).fetchone()
        if row is None:
            return None
        thread, incident, interrupt_id, approve, reject, by, note, at, done = row
        return _Answer(
            thread,
            incident,
            interrupt_id,
            json.loads(approve),
            json.loads(reject),
            by,
            note,
            at,
            done,
        )

    def complete(self, answer: _Answer) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        self._db.execute(
            "UPDATE approval_answers SET completed_at = ? WHERE thread_id = ? AND "
            "incident_id = ? AND interrupt_id = ?",
            (now, answer.thread_id, answer.incident_id, answer.interrupt_id),
        )


@contextmanager
def _review_lock(db: str | os.PathLike[str], wait: float) -> Iterator[None]:
    """One resume at a time per checkpoint database; the OS drops the lock if we die."""
    lock = sqlite3.connect(f"{os.fspath(db)}.review-lock", timeout=wait, isolation_level=None)
    try:
        try:
            lock.execute("BEGIN EXCLUSIVE")
        except sqlite3.OperationalError:
            raise RuntimeFailure(
                f"another review of {os.fspath(db)} is still resuming after {wait:.0f}s; try again"
            ) from None
        yield
    finally:
        lock.close()


async def _pending(graph: Graph, threads: Sequence[str]) -> list[PendingApproval]:
    pending = []
    for thread in threads:
        state = await graph.aget_state({"configurable": {"thread_id": thread}})
        for intr in state.interrupts:
            value = intr.value
            pending.append(
                PendingApproval(
                    id=f"{thread}/{value['incident_id']}",
                    thread_id=thread,
                    interrupt_id=intr.id,
                    incident_id=value["incident_id"],
                    title=value.get("title", ""),
                    users=list(value.get("users", [])),
                    confidence=value.get("confidence"),
                    actions=list(value["actions"]),
                )
            )
    return pending


async def _threads(saver: BaseCheckpointSaver[Any]) -> list[str]:
    threads: list[str] = []
    async for item in saver.alist(None):
        thread = item.config["configurable"]["thread_id"]
        if thread not in threads:
            threads.append(thread)
    return threads


def _with_answers(db: str | os.PathLike[str], pending: list[PendingApproval]) -> None:
    """Mark the pending approvals whose stored answer did not finish resuming."""
    with closing(sqlite3.connect(os.fspath(db), timeout=30)) as con:
        table = "SELECT 1 FROM sqlite_master WHERE name = 'approval_answers'"
        if con.execute(table).fetchone() is None:
            return
        for item in pending:
            row = con.execute(
                "SELECT answered_by, answered_at FROM approval_answers WHERE thread_id = ? "
                "AND incident_id = ? AND interrupt_id = ? AND completed_at IS NULL",
                (item.thread_id, item.incident_id, item.interrupt_id),
            ).fetchone()
            if row is not None:
                item.answered_by, item.answered_at = row


def list_pending(db: str | os.PathLike[str], build: GraphBuilder) -> list[PendingApproval]:
    """Alerts waiting for approval in the checkpoint database ``db``."""
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    async def main() -> list[PendingApproval]:
        async with AsyncSqliteSaver.from_conn_string(os.fspath(db)) as saver:
            return await _pending(build(saver), await _threads(saver))

    pending = run_sync(main)
    _with_answers(db, pending)
    return pending


def decide_approval(
    db: str | os.PathLike[str],
    build: GraphBuilder,
    approval_id: str,
    *,
    approve: Sequence[str] = (),
    by: str,
    note: str = "",
    action_log: RecordedActions | None = None,
    wait: float = 60.0,
) -> dict[str, Any]:
    """Answer one pending approval, once, and resume the graph; returns the final state.

    Args:
        db: The SQLite checkpoint database the graph was run with.
        build: Rebuilds the same graph on a checkpointer.
        approval_id: ``<thread_id>/<incident_id>`` (see :func:`list_pending`).
        approve: The actions approved, each exactly one of the alert's actions; the others
            are rejected. Empty rejects all.
        by: Who decided (recorded with the answer and with every approved action).
        note: Why, recorded with the answer.
        action_log: Where the graph's sink records (``SqliteActionLog``), so that a refusal
            can say which actions were already recorded.
        wait: Seconds to wait for another review's resume of the same database.

    Raises:
        UsageError: The id is not pending, or an action is not exactly one of the alert's
            (nothing is written in either case).
        AlreadyAnsweredError: The alert already has an answer (another reviewer's, or a
            different one of yours): the message names who answered, when, and what.
        RuntimeFailure: Another review kept the database locked longer than ``wait``.
    """
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    thread, _, incident = approval_id.rpartition("/")
    if not thread or not incident:
        raise UsageError(f"approval id {approval_id!r} is not THREAD/INCIDENT (see: review list)")

    raw = {"approve": list(approve), "by": by, "note": note}

    async def main() -> dict[str, Any]:
        async with AsyncSqliteSaver.from_conn_string(os.fspath(db)) as saver:
            graph, store = build(saver), _AnswerStore(db)
            try:
                stored = await _claim(graph, saver, store, approval_id, raw, action_log)
                with _review_lock(db, wait):
                    return await _resume(graph, store, stored, approval_id, action_log)
            finally:
                store.close()

    return run_sync(main)


def _recorded(log: RecordedActions | None, answer: _Answer) -> list[str] | None:
    return None if log is None else log.recorded(answer.thread_id, answer.incident_id)


async def _find(graph: Graph, thread: str, incident: str) -> PendingApproval | None:
    return next((p for p in await _pending(graph, [thread]) if p.incident_id == incident), None)


async def _claim(
    graph: Graph,
    saver: BaseCheckpointSaver[Any],
    store: _AnswerStore,
    approval_id: str,
    raw: dict[str, Any],
    log: RecordedActions | None,
) -> _Answer:
    """Validate the answer, then store it unless another stands; the answer to resume with."""
    thread, _, incident = approval_id.rpartition("/")
    item = await _find(graph, thread, incident)
    if item is not None:
        answer = validate_answer(raw, item.actions)
        stored, won = store.claim(item, answer)
        if won:
            return stored
    else:  # not pending: unknown, answered, or answered and its task done before a crash
        stored_or_none = store.get(thread, incident)
        if stored_or_none is None:
            pending = ", ".join(p.id for p in await _pending(graph, await _threads(saver)))
            raise UsageError(f"no pending approval {approval_id!r}; pending: {pending or 'none'}")
        stored = stored_or_none
        try:
            answer = validate_answer(raw, [*stored.approve, *stored.reject])
        except UsageError:  # not the stored answer either way; say who answered
            raise AlreadyAnsweredError(approval_id, stored, _recorded(log, stored)) from None
    if stored.completed_at is not None or not stored.same(answer):
        raise AlreadyAnsweredError(approval_id, stored, _recorded(log, stored))
    return stored  # the same answer re-sent after a crash: complete it


async def _resume(
    graph: Graph,
    store: _AnswerStore,
    stored: _Answer,
    approval_id: str,
    log: RecordedActions | None,
) -> dict[str, Any]:
    """Resume with the stored answer; under the lock, so no other resume runs meanwhile."""
    fresh = store.get(stored.thread_id, stored.incident_id, stored.interrupt_id)
    assert fresh is not None  # claimed before the lock was taken
    if fresh.completed_at is not None:  # the same answer finished while we waited
        raise AlreadyAnsweredError(approval_id, fresh, _recorded(log, fresh))
    config: RunnableConfig = {"configurable": {"thread_id": stored.thread_id}}
    current = await _find(graph, stored.thread_id, stored.incident_id)
    command: Command[Any] | None = None
    if current is not None:
        command = Command(resume={current.interrupt_id: stored.resume_value()})
    # current is None: the answered task finished before a crash; running on ends the step.
    result: dict[str, Any] = await graph.ainvoke(command, config)
    store.complete(stored)
    return result
