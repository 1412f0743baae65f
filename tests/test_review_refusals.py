"""The pieces behind ``review decide`` read from close by: what a refusal says, what the answers
table keeps and completes, and which stored answer counts as "the same answer re-sent".

``tests/test_approval_answers.py`` checks the same through :func:`decide_approval`; these tests
call the pieces directly, so each is checked on its own (and mutation testing, which credits a
test only with functions it calls within a few frames, sees them checked)."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from approval_app import ACTIONS, THREAD, build_small, start_small
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from siem_consensus import review
from siem_consensus.graphs.approval import SqliteActionLog, validate_answer
from siem_consensus.review import AlreadyAnsweredError, PendingApproval

AT = "2026-12-07T10:00:00+00:00"


def _answer(
    approve: list[str], *, by: str = "alice", completed_at: str | None = AT, note: str = "n"
) -> review._Answer:
    reject = [a for a in ACTIONS if a not in approve]
    return review._Answer(THREAD, "ins-1", "intr-1", approve, reject, by, note, AT, completed_at)


# ------------------------------------------------------------------------ the refusal


def test_a_refusal_of_a_finished_answer_names_who_when_and_what() -> None:
    error = AlreadyAnsweredError(f"{THREAD}/ins-1", _answer([ACTIONS[0]]), None)
    assert str(error) == (
        f"{THREAD}/ins-1 was already answered by alice at {AT} (approved {[ACTIONS[0]]})"
    )
    assert (error.answered_by, error.answered_at, error.approved) == ("alice", AT, [ACTIONS[0]])
    assert error.recorded is None and error.completed is True


def test_a_refusal_of_a_rejection_says_every_action_was_rejected() -> None:
    error = AlreadyAnsweredError(f"{THREAD}/ins-1", _answer([], by="bob"), [])
    assert str(error) == (
        f"{THREAD}/ins-1 was already answered by bob at {AT} (rejected every action); "
        "recorded so far: nothing"
    )
    assert error.approved == [] and error.recorded == []


def test_a_refusal_of_an_unfinished_answer_says_only_the_same_answer_completes_it() -> None:
    error = AlreadyAnsweredError("t/ins-1", _answer(ACTIONS, completed_at=None), [ACTIONS[1]])
    assert error.completed is False and error.recorded == [ACTIONS[1]]
    assert str(error) == (
        f"t/ins-1 was already answered by alice at {AT} (approved {ACTIONS}); "
        f"recorded so far: {[ACTIONS[1]]}; its resume did not finish: only the same answer "
        "(by alice, the same actions) can complete it"
    )


def test_a_refusal_lists_the_action_logs_actions_for_that_alert_only(tmp_path: Path) -> None:
    log = SqliteActionLog(tmp_path / "actions.sqlite")
    log.record(THREAD, "ins-1", ACTIONS[1], "alice", "")
    log.record(THREAD, "ins-2", ACTIONS[0], "alice", "")
    log.record("other-thread", "ins-1", ACTIONS[0], "alice", "")
    assert review._recorded(log, _answer([ACTIONS[1]])) == [ACTIONS[1]]
    assert review._recorded(None, _answer([ACTIONS[1]])) is None


# ------------------------------------------------------------------------ the answers


def test_the_same_answer_is_the_same_reviewer_with_the_same_actions() -> None:
    stored = _answer([ACTIONS[0]], note="first")
    resent = validate_answer({"approve": [ACTIONS[0]], "by": "alice", "note": "other"}, ACTIONS)
    assert stored.same(resent)  # the note may differ
    assert not stored.same({**resent, "by": "bob"})
    assert not stored.same({**resent, "approve": ACTIONS})
    assert not stored.same({**resent, "approve": []})
    assert stored.resume_value() == {"approve": [ACTIONS[0]], "by": "alice", "note": "first"}


def _item(interrupt_id: str, incident: str = "ins-1") -> PendingApproval:
    return PendingApproval(
        id=f"{THREAD}/{incident}",
        thread_id=THREAD,
        interrupt_id=interrupt_id,
        incident_id=incident,
        title="",
        users=[],
        confidence=None,
        actions=ACTIONS,
    )


def _completed(db: Path) -> dict[tuple[str, str], str | None]:
    with closing(sqlite3.connect(db)) as con:
        rows = con.execute("SELECT incident_id, interrupt_id, completed_at FROM approval_answers")
        return {(incident, intr): done for incident, intr, done in rows}


def test_completing_an_answer_marks_that_interrupt_only(tmp_path: Path) -> None:
    db = tmp_path / "runs.sqlite"
    store = review._AnswerStore(db)
    try:
        answer = validate_answer({"approve": [ACTIONS[0]], "by": "alice"}, ACTIONS)
        first, _ = store.claim(_item("intr-1"), answer)
        store.claim(_item("intr-2"), answer)
        store.claim(_item("intr-1", "ins-2"), answer)
        assert set(_completed(db).values()) == {None}
        store.complete(first)
        done = store.get(THREAD, "ins-1", "intr-1")
    finally:
        store.close()
    marks = _completed(db)
    assert marks[("ins-2", "intr-1")] is None and marks[("ins-1", "intr-2")] is None
    stamp = marks[("ins-1", "intr-1")]
    assert done is not None and done.completed_at == stamp
    assert stamp is not None and stamp.startswith("20") and stamp.endswith("+00:00")
    assert stamp >= first.answered_at


# ------------------------------------------------------------------------ finding one


def test_finding_a_pending_approval_by_its_incident(tmp_path: Path) -> None:
    db, log = tmp_path / "runs.sqlite", tmp_path / "actions.sqlite"
    asyncio.run(start_small(db, log, count=2))

    async def find(thread: str, incident: str) -> Any:
        async with AsyncSqliteSaver.from_conn_string(str(db)) as saver:
            return await review._find(build_small(saver, str(log)), thread, incident)

    found = asyncio.run(find(THREAD, "ins-2"))
    assert (found.id, found.incident_id, found.actions) == (f"{THREAD}/ins-2", "ins-2", ACTIONS)
    assert asyncio.run(find(THREAD, "ins-3")) is None
    assert asyncio.run(find("another-thread", "ins-2")) is None
