"""``decide_approval`` on the paths a reviewer rarely walks: thread ids with a slash, the
default note, a wrong answer to an approval already closed, several pending approvals named in
a refusal, and the same answer completed by another reviewer while this one waited."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from approval_app import ACTIONS, alerts, build_small
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from siem_consensus import review
from siem_consensus.errors import UsageError
from siem_consensus.graphs.approval import SqliteActionLog, validate_answer
from siem_consensus.review import AlreadyAnsweredError, decide_approval, list_pending


def _start(db: Path, log: Path, thread: str, count: int = 1) -> None:
    async def main() -> None:
        async with AsyncSqliteSaver.from_conn_string(str(db)) as saver:
            graph = build_small(saver, str(log))
            await graph.ainvoke(alerts(count), {"configurable": {"thread_id": thread}})

    asyncio.run(main())


def _build(log: Path) -> Any:
    return lambda saver: build_small(saver, str(log))


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "runs.sqlite", tmp_path / "actions.sqlite"


def test_a_thread_id_with_slashes_is_answered_by_its_last_segment(
    files: tuple[Path, Path],
) -> None:
    db, log = files
    thread = "insider/2026-12-07/night"
    _start(db, log, thread)
    [item] = list_pending(db, _build(log))
    assert (item.id, item.thread_id, item.incident_id) == (f"{thread}/ins-1", thread, "ins-1")
    final = decide_approval(db, _build(log), item.id, approve=[ACTIONS[0]], by="alice")
    assert [e["action"] for e in final["actions_log"]] == [ACTIONS[0]]
    assert SqliteActionLog(log).recorded(thread, "ins-1") == [ACTIONS[0]]
    with pytest.raises(UsageError, match=r"^approval id 'insider/night/' is not THREAD/INCIDENT"):
        decide_approval(db, _build(log), "insider/night/", by="alice")


def test_an_answer_without_a_note_is_recorded_with_an_empty_note(
    files: tuple[Path, Path],
) -> None:
    db, log = files
    _start(db, log, "t1")
    final = decide_approval(db, _build(log), "t1/ins-1", approve=ACTIONS, by="alice")
    assert final["approvals"]["ins-1"]["note"] == ""
    assert [(e["action"], e["note"]) for e in SqliteActionLog(log).entries()] == [
        (a, "") for a in ACTIONS
    ]


def test_a_refusal_names_every_pending_approval(files: tuple[Path, Path]) -> None:
    db, log = files
    _start(db, log, "t1", count=3)
    with pytest.raises(UsageError) as info:
        decide_approval(db, _build(log), "t1/ins-9", by="bob")
    assert (
        str(info.value) == "no pending approval 't1/ins-9'; pending: t1/ins-1, t1/ins-2, t1/ins-3"
    )


def test_a_different_answer_to_a_closed_approval_names_it_and_who_answered(
    files: tuple[Path, Path],
) -> None:
    db, log = files
    _start(db, log, "t1")
    decide_approval(db, _build(log), "t1/ins-1", approve=[ACTIONS[1]], by="alice")
    with pytest.raises(AlreadyAnsweredError) as info:  # an action the alert never had
        decide_approval(db, _build(log), "t1/ins-1", approve=["wipe the laptop"], by="bob")
    assert str(info.value).startswith("t1/ins-1 was already answered by alice at 20")
    assert info.value.approved == [ACTIONS[1]] and info.value.completed


@contextmanager
def _held_review_lock(db: Path) -> Iterator[sqlite3.Connection]:
    """Hold the review lock as a resume in another process would."""
    holder = sqlite3.connect(f"{db}.review-lock", isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        yield holder
    finally:
        holder.close()


def test_the_same_answer_completed_by_another_reviewer_meanwhile_is_refused_with_its_record(
    files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two reviewers re-send the same unfinished answer; the other one's resume finishes while
    this one waits for the lock: this one is refused, with what is recorded, and resumes
    nothing (a newer answer about the same incident does not stand in for this one)."""
    db, log = files
    _start(db, log, "t1")
    [item] = list_pending(db, _build(log))
    answer = validate_answer({"approve": [ACTIONS[0]], "by": "alice"}, ACTIONS)
    store = review._AnswerStore(db)
    stored, won = store.claim(item, answer)  # stored; that reviewer's process then died
    assert won

    waiting = threading.Event()
    real_lock = review._review_lock

    @contextmanager
    def lock(path: Any, wait: float) -> Iterator[None]:
        waiting.set()  # the claim is done: this review now waits for the lock
        with real_lock(path, wait):
            yield

    monkeypatch.setattr(review, "_review_lock", lock)
    outcome: dict[str, Any] = {}

    def reviewer() -> None:
        try:
            outcome["result"] = decide_approval(
                db,
                _build(log),
                "t1/ins-1",
                approve=[ACTIONS[0]],
                by="alice",
                action_log=SqliteActionLog(log),
                wait=60,
            )
        except Exception as exc:  # noqa: BLE001 (the test reads it)
            outcome["error"] = exc

    with _held_review_lock(db):
        worker = threading.Thread(target=reviewer)
        worker.start()
        assert waiting.wait(timeout=60)
        # meanwhile the other reviewer's resume recorded the action and completed the answer
        SqliteActionLog(log).record("t1", "ins-1", ACTIONS[0], "alice", "")
        store.complete(stored)
        # and a later run of the thread asked about the same incident again, answered unfinished
        later = item.model_copy(update={"interrupt_id": "a-later-interrupt"})
        store.claim(later, validate_answer({"approve": ACTIONS, "by": "carol"}, ACTIONS))
    worker.join(timeout=120)
    store.close()
    assert not worker.is_alive() and "result" not in outcome
    error = outcome["error"]
    assert isinstance(error, AlreadyAnsweredError)
    assert str(error) == (
        f"t1/ins-1 was already answered by alice at {stored.answered_at} "
        f"(approved {[ACTIONS[0]]}); recorded so far: {[ACTIONS[0]]}"
    )
    assert (error.recorded, error.completed) == ([ACTIONS[0]], True)
    assert SqliteActionLog(log).recorded("t1", "ins-1") == [ACTIONS[0]]


def test_storing_an_answer_and_recording_an_action_wait_for_another_writer(
    files: tuple[Path, Path],
) -> None:
    """A graph run or another review writing checkpoints (or approved actions) holds SQLite's
    write lock; the answer and the action are stored once that writer is done (here after
    6 s), not refused as "database is locked"."""
    db, log = files
    _start(db, log, "t1")
    [item] = list_pending(db, _build(log))
    store, actions = review._AnswerStore(db), SqliteActionLog(log)
    writers = [sqlite3.connect(p, isolation_level=None, check_same_thread=False) for p in files]
    done = threading.Timer(6.0, lambda: [w.execute("COMMIT") for w in writers])
    recorded: list[bool] = []
    recording = threading.Thread(
        target=lambda: recorded.append(actions.record("t1", "ins-1", ACTIONS[0], "al", ""))
    )
    try:
        for writer in writers:  # the write locks, as a checkpoint write holds them
            writer.execute("BEGIN IMMEDIATE")
        done.start()
        recording.start()
        stored, won = store.claim(item, validate_answer({"approve": ACTIONS, "by": "al"}, ACTIONS))
        recording.join(timeout=60)
    finally:
        done.cancel()
        done.join()
        for writer in writers:
            writer.close()
        store.close()
    assert won and stored.approve == ACTIONS
    assert recorded == [True] and actions.recorded("t1", "ins-1") == [ACTIONS[0]]
