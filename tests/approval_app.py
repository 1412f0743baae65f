"""A tiny approval app for the crash/restart test: run in separate processes."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from siem_consensus.detectors.firewall import FirewallDetector
from siem_consensus.generators.firewall import scenario_1
from siem_consensus.graphs.approval import SqliteActionLog
from siem_consensus.graphs.nodes import TriageContext
from siem_consensus.graphs.triage import build_triage_graph


def build(saver: Any, log: str) -> Any:
    """The same graph in every process: firewall triage plus the approval stage."""
    return build_triage_graph(
        FirewallDetector, checkpointer=saver, approval=True, action_sink=SqliteActionLog(log)
    )


async def start(db: str, log: str) -> None:
    """Run until the approval interrupt, say so, then wait to be killed."""
    async with AsyncSqliteSaver.from_conn_string(db) as saver:
        graph = build(saver, log)
        context = TriageContext(inline_sources=[scenario_1(seed=7)])
        config: Any = {"configurable": {"thread_id": "night-shift"}}
        await graph.ainvoke({"input_format": "asa"}, config, context=context)
    print("PENDING", flush=True)
    await asyncio.sleep(600)


if __name__ == "__main__":
    asyncio.run(start(sys.argv[1], sys.argv[2]))
    os._exit(0)
