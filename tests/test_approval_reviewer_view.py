"""What a reviewer is shown about a pending approval: the alert's users, and when an answer
was stored, in UTC (``PendingApproval.answered_at``, ``AlreadyAnsweredError.answered_at``)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from approval_app import ACTIONS, THREAD, build_small
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from siem_consensus import review
from siem_consensus.graphs.approval import validate_answer
from siem_consensus.review import AlreadyAnsweredError, decide_approval, list_pending


def _state(users: dict[str, list[str]]) -> dict[str, Any]:
    """Input state: one alert per incident id in ``users``, naming those users."""
    return {
        "incidents": [
            {"id": i, "title": f"alert {i}", "entities": {"users": names}}
            for i, names in users.items()
        ],
        "decisions": [
            dict(incident_id=i, outcome="alert", confidence=0.9, recommended_actions=ACTIONS)
            for i in users
        ],
    }


def _start(db: Path, log: Path, state: dict[str, Any]) -> None:
    async def main() -> None:
        async with AsyncSqliteSaver.from_conn_string(str(db)) as saver:
            graph = build_small(saver, str(log))
            await graph.ainvoke(state, {"configurable": {"thread_id": THREAD}})

    asyncio.run(main())


def _build(log: Path) -> Any:
    return lambda saver: build_small(saver, str(log))


def _is_utc(stamp: str | None) -> bool:
    assert stamp is not None
    return datetime.fromisoformat(stamp).utcoffset() == timedelta(0)


def test_a_pending_approval_names_the_users_of_its_alert(tmp_path: Path) -> None:
    db, log = tmp_path / "runs.sqlite", tmp_path / "actions.sqlite"
    _start(db, log, _state({"ins-1": ["bob.engineer", "carol"], "ins-2": ["dave"]}))
    users = {p.incident_id: p.users for p in list_pending(db, _build(log))}
    assert users == {"ins-1": ["bob.engineer", "carol"], "ins-2": ["dave"]}


def test_when_an_answer_was_stored_is_shown_in_utc(tmp_path: Path) -> None:
    db, log = tmp_path / "runs.sqlite", tmp_path / "actions.sqlite"
    _start(db, log, _state({"ins-1": ["bob.engineer"]}))
    [item] = list_pending(db, _build(log))
    store = review._AnswerStore(db)
    try:  # stored, but its resume never ran (the reviewer's process died)
        stored, won = store.claim(item, validate_answer({"approve": ACTIONS, "by": "al"}, ACTIONS))
    finally:
        store.close()
    assert won and _is_utc(stored.answered_at)
    [shown] = list_pending(db, _build(log))
    assert shown.answered_by == "al" and _is_utc(shown.answered_at)
    utc_time = r"already answered by al at 20\S+\+00:00 "
    with pytest.raises(AlreadyAnsweredError, match=utc_time) as info:
        decide_approval(db, _build(log), f"{THREAD}/ins-1", by="bob")
    assert _is_utc(info.value.answered_at)
