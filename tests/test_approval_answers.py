"""Approvals in one process, piece by piece: what the interrupt asks, what an answer may be, what
the action log and the answers table hold, and what a refusal says."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from approval_app import ACTIONS, THREAD, build_small, start_small
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.graph import END

from siem_consensus import review
from siem_consensus.errors import InputError, RuntimeFailure, UsageError
from siem_consensus.graphs.approval import (
    SqliteActionLog,
    make_approval_fan_out,
    make_approve,
    validate_answer,
)
from siem_consensus.review import AlreadyAnsweredError, decide_approval, list_pending


@pytest.fixture
def pending(tmp_path: Path) -> tuple[Path, Path]:
    """A checkpoint with two alerts (ins-1, ins-2) waiting, and an empty action log path."""
    db, log = tmp_path / "runs.sqlite", tmp_path / "actions.sqlite"
    asyncio.run(start_small(db, log, count=2))
    return db, log


def _build(log: Path) -> Any:
    return lambda saver: build_small(saver, str(log))


# ------------------------------------------------------------------------ action log


def test_the_action_log_keeps_who_why_and_when_oldest_first(tmp_path: Path) -> None:
    log = SqliteActionLog(tmp_path / "nested" / "dir" / "actions.sqlite")
    assert log.record("t1", "ins-1", "b", "alice", "checked") is True
    assert log.record("t1", "ins-1", "a", "bob", "") is True
    assert log.record("t2", "ins-1", "a", "carol", "other thread") is True
    assert log.recorded("t1", "ins-1") == ["b", "a"]
    assert log.recorded("t2", "ins-1") == ["a"] and log.recorded("t1", "ins-2") == []
    entries = log.entries()
    assert [{k: v for k, v in e.items() if k != "recorded_at"} for e in entries] == [
        {"thread_id": "t1", "incident_id": "ins-1", "action": "b", "approved_by": "alice",
         "note": "checked"},
        {"thread_id": "t1", "incident_id": "ins-1", "action": "a", "approved_by": "bob",
         "note": ""},
        {"thread_id": "t2", "incident_id": "ins-1", "action": "a", "approved_by": "carol",
         "note": "other thread"},
    ]  # fmt: skip
    times = [e["recorded_at"] for e in entries]
    assert times == sorted(times) and all(t.startswith("20") and "+00:00" in t for t in times)


def test_a_file_that_is_not_an_action_log_is_an_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "actions.sqlite"
    bad.write_bytes(b"this is not a database, just text " * 200)
    with pytest.raises(InputError, match=r"actions\.sqlite: not a usable action log \("):
        SqliteActionLog(bad)


# ------------------------------------------------------------------------ the answer


def test_an_answer_may_list_rejections_and_keeps_its_note() -> None:
    answer = validate_answer(
        {"approve": (ACTIONS[0],), "reject": [ACTIONS[1]], "by": "bob", "note": 42}, ACTIONS
    )
    assert answer == {"approve": [ACTIONS[0]], "reject": [ACTIONS[1]], "by": "bob", "note": "42"}
    assert validate_answer({"by": "bob"}, ACTIONS)["reject"] == ACTIONS


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (["approve"], "an approval answer must be a mapping, got list"),
        ({"approve": "x", "by": "a"}, "'approve' must be a list of action texts, got str"),
        ({"reject": {"x": 1}, "by": "a"}, "'reject' must be a list of action texts, got dict"),
        ({"reject": [None], "by": "a"}, "'reject' must be a list of action texts (strings)"),
        ({"approve": [], "by": 7}, "an approval answer needs 'by': who decided"),
        (
            {"approve": ["x"], "reject": ["y"], "by": "a"},
            f"unknown action(s) ['x', 'y']: an action must be exactly one of this alert's "
            f"recommended actions: {ACTIONS[0]!r}; {ACTIONS[1]!r}",
        ),
        (
            {"approve": ACTIONS, "reject": ACTIONS[::-1], "by": "a"},
            f"action(s) {sorted(ACTIONS)} both approved and rejected",
        ),
    ],
)
def test_a_wrong_answer_says_exactly_what_is_wrong(raw: Any, message: str) -> None:
    with pytest.raises(UsageError) as info:
        validate_answer(raw, ACTIONS)
    assert str(info.value).startswith(message)


# -------------------------------------------------------------------------- fan-out


def test_only_alerts_with_actions_are_asked_about_each_with_its_incident() -> None:
    state: Any = {
        "incidents": [{"id": "a", "title": "A"}, {"id": "b", "title": "B"}],
        "decisions": [
            {"incident_id": "a", "outcome": "alert", "recommended_actions": ["x"]},
            {"incident_id": "b", "outcome": "alert", "recommended_actions": []},
            {"incident_id": "c", "outcome": "needs_review", "recommended_actions": ["x"]},
            {"incident_id": "d", "outcome": "alert", "recommended_actions": ["y"]},
        ],
    }
    sends = make_approval_fan_out("ask", "done")(state)
    assert isinstance(sends, list)
    assert [(s.node, s.arg["decision"]["incident_id"], s.arg["incident"]) for s in sends] == [
        ("ask", "a", {"id": "a", "title": "A"}),
        ("ask", "d", {}),
    ]
    assert make_approval_fan_out("ask", "done")({}) == "done"
    assert make_approval_fan_out()({"decisions": state["decisions"][1:3]}) == END
    assert make_approval_fan_out()(state)[0].node == "approve"  # type: ignore[index]


# ------------------------------------------------------------------- the interrupt


def test_the_interrupt_shows_the_alert_and_lists_its_actions(pending: tuple[Path, Path]) -> None:
    db, log = pending
    items = list_pending(db, _build(log))
    assert [(p.id, p.thread_id, p.incident_id) for p in items] == [
        (f"{THREAD}/ins-1", THREAD, "ins-1"),
        (f"{THREAD}/ins-2", THREAD, "ins-2"),
    ]
    first = items[0]
    assert (first.title, first.users, first.confidence, first.actions) == (
        "alert ins-1",
        [],
        0.9,
        ACTIONS,
    )
    assert first.interrupt_id and first.interrupt_id != items[1].interrupt_id
    assert (first.answered_by, first.answered_at) == (None, None)


def test_the_approve_node_records_in_the_runs_thread_and_says_what_was_new(
    tmp_path: Path,
) -> None:
    log = SqliteActionLog(tmp_path / "a.sqlite")
    log.record("t9", "ins-1", ACTIONS[1], "earlier", "")
    node = make_approve(log)
    task = {"decision": {"incident_id": "ins-1", "recommended_actions": ACTIONS}, "incident": {}}
    answer = {"approve": ACTIONS, "by": "alice", "note": "n"}

    async def run(sink_node: Any, thread: str | None) -> dict[str, Any]:
        from langgraph.graph import START, StateGraph
        from langgraph.types import Command

        from siem_consensus.graphs.nodes import TriageState

        graph = StateGraph(TriageState)
        graph.add_node("approve", lambda state, config: sink_node(task, config))
        graph.add_edge(START, "approve")
        graph.add_edge("approve", END)
        async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "r.sqlite")) as saver:
            compiled = graph.compile(checkpointer=saver)
            config: Any = {"configurable": {"thread_id": thread or "default"}}
            first = await compiled.ainvoke({}, config)
            [intr] = first["__interrupt__"]
            assert intr.value == {
                "incident_id": "ins-1",
                "title": "",
                "users": [],
                "confidence": None,
                "actions": ACTIONS,
            }
            result: dict[str, Any] = await compiled.ainvoke(Command(resume=answer), config)
            return result

    final = asyncio.run(run(node, "t9"))
    assert final["actions_log"] == [
        {"incident_id": "ins-1", "action": ACTIONS[0], "approved_by": "alice",
         "newly_recorded": True},
        {"incident_id": "ins-1", "action": ACTIONS[1], "approved_by": "alice",
         "newly_recorded": False},
    ]  # fmt: skip
    assert final["approvals"]["ins-1"]["note"] == "n"
    assert log.recorded("t9", "ins-1") == [ACTIONS[1], ACTIONS[0]]
    [entry] = [e for e in log.entries() if e["action"] == ACTIONS[0]]
    assert (entry["approved_by"], entry["note"]) == ("alice", "n")


# --------------------------------------------------------------------- the answers


def test_a_decided_approval_is_stored_with_its_answer_and_completed(
    pending: tuple[Path, Path],
) -> None:
    db, log = pending
    final = decide_approval(
        db, _build(log), f"{THREAD}/ins-1", approve=[ACTIONS[1]], by="alice", note="called HR"
    )
    assert final["approvals"]["ins-1"] == {
        "approve": [ACTIONS[1]],
        "reject": [ACTIONS[0]],
        "by": "alice",
        "note": "called HR",
    }
    assert [e["action"] for e in final["actions_log"]] == [ACTIONS[1]]
    with closing(sqlite3.connect(db)) as con:
        [row] = con.execute(
            "SELECT thread_id, incident_id, approve, reject, answered_by, note, answered_at, "
            "completed_at FROM approval_answers"
        ).fetchall()
    assert row[:6] == (THREAD, "ins-1", json.dumps([ACTIONS[1]]), json.dumps([ACTIONS[0]]),
                       "alice", "called HR")  # fmt: skip
    assert row[6].startswith("20") and row[7] is not None and row[7] >= row[6]


def _store_unfinished(db: Path, log: Path, by: str, approve: list[str]) -> None:
    """An answer stored whose resume never ran (the reviewer's process died right after)."""
    [item] = [p for p in list_pending(db, _build(log)) if p.incident_id == "ins-1"]
    store = review._AnswerStore(db)
    try:
        stored, won = store.claim(item, validate_answer({"approve": approve, "by": by}, ACTIONS))
    finally:
        store.close()
    assert won and stored.completed_at is None


def test_an_unfinished_answer_is_shown_and_only_the_same_answer_completes_it(
    pending: tuple[Path, Path],
) -> None:
    db, log = pending
    _store_unfinished(db, log, "alice", [ACTIONS[0]])
    items = {p.incident_id: p for p in list_pending(db, _build(log))}
    assert items["ins-1"].answered_by == "alice" and (items["ins-1"].answered_at or "")[:2] == "20"
    assert items["ins-2"].answered_by is None and items["ins-2"].answered_at is None
    for by, approve in (("bob", [ACTIONS[0]]), ("alice", ACTIONS), ("alice", [])):
        with pytest.raises(AlreadyAnsweredError) as info:
            decide_approval(
                db,
                _build(log),
                f"{THREAD}/ins-1",
                approve=approve,
                by=by,
                action_log=SqliteActionLog(log),
            )
        error = info.value
        assert (error.answered_by, error.approved, error.recorded) == ("alice", [ACTIONS[0]], [])
        assert error.completed is False
        assert str(error).endswith(
            f"(approved {[ACTIONS[0]]}); recorded so far: nothing; its resume did not finish: "
            "only the same answer (by alice, the same actions) can complete it"
        )
    final = decide_approval(db, _build(log), f"{THREAD}/ins-1", approve=[ACTIONS[0]], by="alice")
    assert [e["action"] for e in final["actions_log"]] == [ACTIONS[0]]
    assert SqliteActionLog(log).recorded(THREAD, "ins-1") == [ACTIONS[0]]
    with pytest.raises(AlreadyAnsweredError) as done:
        decide_approval(db, _build(log), f"{THREAD}/ins-1", approve=[ACTIONS[0]], by="alice")
    assert done.value.completed and done.value.recorded is None
    assert str(done.value) == (
        f"{THREAD}/ins-1 was already answered by alice at {done.value.answered_at} "
        f"(approved {[ACTIONS[0]]})"
    )


def test_a_refusal_without_an_action_log_names_the_pending_ones(
    pending: tuple[Path, Path],
) -> None:
    db, log = pending
    decide_approval(db, _build(log), f"{THREAD}/ins-2", by="bob")
    with pytest.raises(UsageError) as info:
        decide_approval(db, _build(log), f"{THREAD}/ins-3", by="bob")
    assert str(info.value) == f"no pending approval '{THREAD}/ins-3'; pending: {THREAD}/ins-1"
    with pytest.raises(UsageError, match=r"^approval id '/ins-1' is not THREAD/INCIDENT"):
        decide_approval(db, _build(log), "/ins-1", by="bob")
    with pytest.raises(UsageError, match=r"^approval id 'night-shift/' is not THREAD/INCIDENT"):
        decide_approval(db, _build(log), f"{THREAD}/", by="bob")
    decide_approval(db, _build(log), f"{THREAD}/ins-1", by="bob")
    with pytest.raises(UsageError, match="pending: none$"):
        decide_approval(db, _build(log), f"{THREAD}/ins-3", by="bob")


def test_a_review_waits_for_another_resume_then_says_to_try_again(tmp_path: Path) -> None:
    db = tmp_path / "runs.sqlite"
    holder = sqlite3.connect(f"{db}.review-lock", isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(RuntimeFailure) as info, review._review_lock(db, wait=0.2):
            pass
        assert str(info.value) == (f"another review of {db} is still resuming after 0s; try again")
    finally:
        holder.close()
    with review._review_lock(db, wait=0.2):  # free again
        pass


def test_a_refusal_lists_what_the_action_log_already_holds(pending: tuple[Path, Path]) -> None:
    db, log = pending
    decide_approval(db, _build(log), f"{THREAD}/ins-1", approve=[ACTIONS[1]], by="alice")
    with pytest.raises(AlreadyAnsweredError) as info:
        decide_approval(
            db, _build(log), f"{THREAD}/ins-1", by="bob", action_log=SqliteActionLog(log)
        )
    assert info.value.recorded == [ACTIONS[1]]
    assert f"; recorded so far: {[ACTIONS[1]]}" in str(info.value)


def test_a_second_claim_on_one_interrupt_gets_the_first_answer(pending: tuple[Path, Path]) -> None:
    db, log = pending
    [item, _] = list_pending(db, _build(log))
    store = review._AnswerStore(db)
    try:
        first, won = store.claim(item, validate_answer({"approve": ACTIONS, "by": "a"}, ACTIONS))
        second, again = store.claim(item, validate_answer({"by": "b"}, ACTIONS))
    finally:
        store.close()
    assert (won, again) == (True, False)
    assert second == first and (second.by, second.approve, second.reject) == ("a", ACTIONS, [])


def test_an_interrupt_with_only_an_id_and_actions_is_listed_with_empty_details(
    tmp_path: Path,
) -> None:
    from langgraph.graph import START, StateGraph
    from langgraph.types import interrupt

    from siem_consensus.graphs.nodes import TriageState

    def ask(state: Any) -> dict[str, Any]:
        interrupt({"incident_id": "x-1", "actions": ["call the owner"]})
        return {}

    def build(saver: Any) -> Any:
        graph = StateGraph(TriageState)
        graph.add_node("ask", ask)
        graph.add_edge(START, "ask")
        graph.add_edge("ask", END)
        return graph.compile(checkpointer=saver)

    db = tmp_path / "runs.sqlite"

    async def start() -> None:
        async with AsyncSqliteSaver.from_conn_string(str(db)) as saver:
            await build(saver).ainvoke({}, {"configurable": {"thread_id": "t"}})

    asyncio.run(start())
    [item] = list_pending(db, build)
    assert (item.id, item.title, item.users, item.confidence, item.actions) == (
        "t/x-1",
        "",
        [],
        None,
        ["call the owner"],
    )
