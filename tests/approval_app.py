"""Approval apps run in separate processes: crash/restart, kill -9 at each step, and races.

``python approval_app.py start DB LOG`` runs the firewall triage graph until its approval
interrupt, prints PENDING and waits to be killed. :func:`decide` (a process target, or
``python approval_app.py decide DB LOG ID BY DIE_AT [ACTION ...]``) answers an approval of the
small graph (alerts of two actions each) and SIGKILLs itself at DIE_AT: ``before-1`` (answer
stored, resume started, nothing recorded), ``after-1`` (action 1 of 2 recorded), ``after-2``
(both recorded, the task not finished),
``writes`` (the task finished and its writes are saved, other alerts still pending),
``checkpoint`` (the last alert's task finished, the step's checkpoint not written) or ``never``.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.graph import END, START, StateGraph

from siem_consensus.detectors.firewall import FirewallDetector
from siem_consensus.generators.firewall import scenario_1
from siem_consensus.graphs.approval import (
    SqliteActionLog,
    make_approval_fan_out,
    make_approve,
)
from siem_consensus.graphs.nodes import TriageContext, TriageState
from siem_consensus.graphs.triage import build_triage_graph
from siem_consensus.review import AlreadyAnsweredError, decide_approval

ACTIONS = [
    "Preserve evidence: endpoint image, file access and proxy logs, mailbox",
    "Disable the account pending review (needs approval: career-impacting)",
]
THREAD = "night-shift"


def build(saver: Any, log: str) -> Any:
    """The same graph in every process: firewall triage plus the approval stage."""
    return build_triage_graph(
        FirewallDetector, checkpointer=saver, approval=True, action_sink=SqliteActionLog(log)
    )


class DyingSink(SqliteActionLog):
    """The action log, killing its own process (SIGKILL) at one step of recording."""

    def __init__(self, path: str, die_at: str) -> None:
        super().__init__(path)
        self.die_at, self.calls = die_at, 0

    def record(
        self, thread_id: str, incident_id: str, action: str, approved_by: str, note: str
    ) -> bool:
        self.calls += 1
        if self.die_at == f"before-{self.calls}":
            os.kill(os.getpid(), signal.SIGKILL)
        fresh = super().record(thread_id, incident_id, action, approved_by, note)
        if self.die_at == f"after-{self.calls}":
            os.kill(os.getpid(), signal.SIGKILL)
        return fresh


def build_small(saver: Any, log: str, die_at: str = "never") -> Any:
    """Only the approval stage, fed alerts in the input: a fast graph for many trials."""
    sink = SqliteActionLog(log) if die_at == "never" else DyingSink(log, die_at)
    graph = StateGraph(TriageState)
    graph.add_node("approve", make_approve(sink))  # type: ignore[arg-type]
    graph.add_conditional_edges(START, make_approval_fan_out(), ["approve", END])
    graph.add_edge("approve", END)
    return graph.compile(checkpointer=saver)


def alerts(count: int) -> TriageState:
    """Input state with ``count`` alerts, each recommending ACTIONS."""
    ids = [f"ins-{n}" for n in range(1, count + 1)]
    return {
        "incidents": [{"id": i, "title": f"alert {i}", "entities": {"users": []}} for i in ids],
        "decisions": [
            dict(incident_id=i, outcome="alert", confidence=0.9, recommended_actions=ACTIONS)
            for i in ids
        ],
    }


async def start_small(db: Path, log: Path, count: int = 1) -> None:
    """Run the small graph until its approval interrupts (in this process)."""
    async with AsyncSqliteSaver.from_conn_string(str(db)) as saver:
        graph = build_small(saver, str(log))
        await graph.ainvoke(alerts(count), {"configurable": {"thread_id": THREAD}})


def race_worker(jobs: Any, results: Any, barrier: Any) -> None:
    """A racing reviewer: for each job, wait at the barrier with the other one, then answer.

    A job is ``(db, log, by, approve)``; None ends the loop. Each result is
    ``(by, "won" | "refused" | "error", message)``.
    """
    while (job := jobs.get(timeout=120)) is not None:
        db, log, by, approve = job
        barrier.wait(timeout=60)
        try:
            decide_approval(
                db,
                lambda s, log=log: build_small(s, log),
                f"{THREAD}/ins-1",
                approve=approve,
                by=by,
                action_log=SqliteActionLog(log),
            )
        except AlreadyAnsweredError as exc:
            results.put((by, "refused", str(exc)))
        except Exception as exc:  # reported, so that the test fails with the reason
            results.put((by, "error", f"{type(exc).__name__}: {exc}"))
        else:
            results.put((by, "won", ""))


def _die_in_the_checkpointer(die_at: str) -> None:
    """Kill this process inside the SQLite checkpointer, after the answered task finished."""
    put_writes = AsyncSqliteSaver.aput_writes

    async def dying_aput_writes(self: AsyncSqliteSaver, config: Any, writes: Any, *a: Any) -> None:
        await put_writes(self, config, writes, *a)
        if any(channel == "actions_log" for channel, _ in writes):  # the task's own result
            os.kill(os.getpid(), signal.SIGKILL)

    async def dying_aput(*args: Any, **kwargs: Any) -> Any:
        os.kill(os.getpid(), signal.SIGKILL)

    if die_at == "writes":  # the task's writes are saved; the step is not finished
        AsyncSqliteSaver.aput_writes = dying_aput_writes  # type: ignore[method-assign]
    else:  # the step is finished; its checkpoint is not written
        AsyncSqliteSaver.aput = dying_aput  # type: ignore[method-assign]


@contextmanager
def memory_dir(fallback: Path) -> Iterator[Path]:
    """A scratch folder in memory-backed /dev/shm when there is one, else ``fallback``.

    The SQLite files stay real files with real locks; only fsync becomes free, which on a
    shared disk costs a fraction of a second per commit. A killed process loses nothing
    either way: its writes are in the OS page cache.
    """
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield fallback
        return
    root = Path(tempfile.mkdtemp(prefix="approval-tests-", dir=shm))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def processes() -> Any:
    """A multiprocessing context whose processes start in milliseconds: forked from a server
    that imported the heavy modules once (``spawn`` where there is no fork server)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    # Not this module: Python 3.11's fork server ignores the parent's sys.path (tests/).
    ctx.set_forkserver_preload(
        ["siem_consensus.review", "siem_consensus.graphs.triage", "langgraph.checkpoint.sqlite.aio"]
    )
    return ctx


def decide(db: str, log: str, approval_id: str, by: str, die_at: str, approve: list[str]) -> None:
    """Answer an approval of the small graph as ``by``, SIGKILLing this process at ``die_at``."""
    if die_at in ("writes", "checkpoint"):
        _die_in_the_checkpointer(die_at)
        die_at = "never"
    decide_approval(
        db,
        lambda s: build_small(s, log, die_at),
        approval_id,
        approve=approve,
        by=by,
        action_log=SqliteActionLog(log),
    )
    print("DONE", flush=True)


async def start(db: str, log: str) -> None:
    """Run until the approval interrupt, say so, then wait to be killed."""
    async with AsyncSqliteSaver.from_conn_string(db) as saver:
        graph = build(saver, log)
        context = TriageContext(inline_sources=[scenario_1(seed=7)])
        config: Any = {"configurable": {"thread_id": THREAD}}
        await graph.ainvoke({"input_format": "asa"}, config, context=context)
    print("PENDING", flush=True)
    await asyncio.sleep(600)


if __name__ == "__main__":
    if sys.argv[1] == "start":
        asyncio.run(start(sys.argv[2], sys.argv[3]))
    else:
        decide(*sys.argv[2:7], approve=sys.argv[7:])
    os._exit(0)
