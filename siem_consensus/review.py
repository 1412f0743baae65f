"""Pending human approvals in a SQLite checkpoint: list them, approve or reject by id.

Works with any triage graph compiled with ``approval=True`` (the insider graph by default).
A pending approval is identified as ``<thread_id>/<incident_id>``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command
from pydantic import BaseModel

from .errors import UsageError
from .runner import run_sync

__all__ = ["PendingApproval", "decide_approval", "list_pending"]

GraphBuilder = Callable[[BaseCheckpointSaver[Any]], CompiledStateGraph[Any, Any, Any, Any]]


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


async def _pending(
    graph: CompiledStateGraph[Any, Any, Any, Any], saver: BaseCheckpointSaver[Any]
) -> list[PendingApproval]:
    threads = []
    async for item in saver.alist(None):
        thread = item.config["configurable"]["thread_id"]
        if thread not in threads:
            threads.append(thread)
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


def list_pending(db: str | os.PathLike[str], build: GraphBuilder) -> list[PendingApproval]:
    """Alerts waiting for approval in the checkpoint database ``db``."""
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    async def main() -> list[PendingApproval]:
        async with AsyncSqliteSaver.from_conn_string(os.fspath(db)) as saver:
            return await _pending(build(saver), saver)

    return run_sync(main)


def decide_approval(
    db: str | os.PathLike[str],
    build: GraphBuilder,
    approval_id: str,
    *,
    approve: Sequence[str] = (),
    by: str,
    note: str = "",
) -> dict[str, Any]:
    """Answer one pending approval and resume the graph; returns the final state.

    Args:
        approve: The actions approved (any others of the alert are rejected). Empty rejects all.
        by: Who decided (recorded with every approved action).
    """
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    async def main() -> dict[str, Any]:
        async with AsyncSqliteSaver.from_conn_string(os.fspath(db)) as saver:
            graph = build(saver)
            pending = {p.id: p for p in await _pending(graph, saver)}
            if approval_id not in pending:
                raise UsageError(
                    f"no pending approval {approval_id!r}; pending: {', '.join(pending) or 'none'}"
                )
            item = pending[approval_id]
            config: RunnableConfig = {"configurable": {"thread_id": item.thread_id}}
            answer = {"approve": list(approve), "by": by, "note": note}
            command: Command[Any] = Command(resume={item.interrupt_id: answer})
            result: dict[str, Any] = await graph.ainvoke(command, config)
            return result

    return run_sync(main)
