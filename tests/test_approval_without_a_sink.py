"""A graph built with ``approval=True`` and no action sink still asks, and its actions log says
every approved action is new (nothing was recorded before: there is nowhere to record)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from approval_app import ACTIONS, alerts
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command

from siem_consensus.graphs.approval import make_approval_fan_out, make_approve
from siem_consensus.graphs.nodes import TriageState


def _run(db: Path, answer: dict[str, Any]) -> dict[str, Any]:
    graph = StateGraph(TriageState)
    graph.add_node("approve", make_approve(None))  # type: ignore[arg-type]
    graph.add_conditional_edges(START, make_approval_fan_out(), ["approve", END])
    graph.add_edge("approve", END)

    async def main() -> dict[str, Any]:
        async with AsyncSqliteSaver.from_conn_string(str(db)) as saver:
            compiled = graph.compile(checkpointer=saver)
            config: Any = {"configurable": {"thread_id": "t1"}}
            first = await compiled.ainvoke(alerts(1), config)
            [intr] = first["__interrupt__"]
            assert intr.value["actions"] == ACTIONS
            result: dict[str, Any] = await compiled.ainvoke(Command(resume=answer), config)
            return result

    return asyncio.run(main())


def test_without_a_sink_every_approved_action_is_logged_as_new(tmp_path: Path) -> None:
    final = _run(tmp_path / "runs.sqlite", {"approve": ACTIONS, "by": "alice"})
    assert final["actions_log"] == [
        {"incident_id": "ins-1", "action": a, "approved_by": "alice", "newly_recorded": True}
        for a in ACTIONS
    ]
    assert final["approvals"]["ins-1"]["reject"] == []


def test_without_a_sink_a_rejection_logs_nothing(tmp_path: Path) -> None:
    final = _run(tmp_path / "runs.sqlite", {"approve": [], "by": "bob", "note": "benign"})
    assert final.get("actions_log", []) == []
    assert final["approvals"]["ins-1"] == {
        "approve": [],
        "reject": ACTIONS,
        "by": "bob",
        "note": "benign",
    }
