"""Typed entry points: a source in, a report out."""

from __future__ import annotations

import asyncio
import concurrent.futures
import csv
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from langchain_core.runnables import RunnableConfig
from langgraph.types import Checkpointer

from .analysts.base import Analyst, resolve_analysts
from .analysts.llm.base import LLMSettings
from .consensus import ConsensusPolicy, get_policy
from .detectors.base import Detector, get_detector
from .enrich.zones import AssetInventory
from .errors import UsageError
from .graphs.firewall import build_triage_graph
from .graphs.nodes import TriageContext, TriageState
from .models import DeadLetter, Decision, Event, Incident, InputStats
from .report import FirewallReport
from .sources import EventStream, Progress, Source

__all__ = ["analyze_firewall", "write_members"]

_T = TypeVar("_T")


def analyze_firewall(
    source: Source | Sequence[os.PathLike[str]],
    *,
    input_format: str | None = None,
    analysts: Sequence[str | Analyst] | str | None = None,
    policy: str | ConsensusPolicy = "unanimous",
    threshold: float = 0.8,
    thresholds: Any = None,
    inventory: AssetInventory | None = None,
    members_path: str | os.PathLike[str] | None = None,
    dead_letter_path: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    checkpointer: Checkpointer | str | os.PathLike[str] = None,
    thread_id: str | None = None,
    max_concurrency: int = 16,
    llm_settings: LLMSettings | None = None,
) -> FirewallReport:
    """Find and judge suspicious activity in firewall / connection logs.

    Args:
        source: A path, a list of ``Path`` objects, or an iterable of raw lines, decoded
            JSON records (ECS) or :class:`~siem_consensus.models.Event` objects.
        input_format: Parser name (``asa``, ``iptables``, ...); detected per file when None.
        analysts: Analyst names/instances; default: the embedded ``rules`` and ``baseline``.
        policy: ``unanimous`` (default), ``majority`` or ``weighted``, or a policy instance.
        threshold: Confidence an outcome must reach (0-1).
        thresholds: ``FirewallThresholds`` for the detector.
        inventory: Asset inventory for zones and criticality.
        members_path: Write ``event_id,incident_id`` CSV for every event inside an incident
            (needs a re-readable source: paths or a list).
        dead_letter_path: Write every rejected line there as JSON lines.
        progress: Callback ``(lines, bytes, total_bytes)`` while reading.
        checkpointer: LangGraph checkpointer to persist every step, or the path of a SQLite
            file (an ``AsyncSqliteSaver`` is opened on it for the run).
        thread_id: Checkpoint thread id (default: a fresh one per run).
        max_concurrency: Analyst calls in flight at once.
        llm_settings: Settings for LLM analysts given by name (budget, cache, retries).

    Returns:
        The typed report: incidents, decisions, dead letters, input accounting, timings.
    """
    detector_cls = get_detector("firewall")

    def factory() -> Detector:
        return detector_cls() if thresholds is None else detector_cls(thresholds)  # type: ignore[call-arg]

    return _run_triage(
        factory,
        FirewallReport,
        source,
        input_format=input_format,
        analysts=analysts,
        policy=get_policy(policy, threshold),
        inventory=inventory,
        members_path=members_path,
        dead_letter_path=dead_letter_path,
        progress=progress,
        checkpointer=checkpointer,
        thread_id=thread_id,
        max_concurrency=max_concurrency,
        llm_settings=llm_settings,
    )


def _run_triage(
    factory: Callable[[], Detector],
    report_cls: type[FirewallReport],
    source: Any,
    *,
    input_format: str | None,
    analysts: Sequence[str | Analyst] | str | None,
    policy: ConsensusPolicy,
    inventory: AssetInventory | None,
    members_path: str | os.PathLike[str] | None,
    dead_letter_path: str | os.PathLike[str] | None,
    progress: Progress | None,
    checkpointer: Checkpointer | str | os.PathLike[str],
    thread_id: str | None,
    max_concurrency: int,
    llm_settings: LLMSettings | None,
) -> FirewallReport:
    paths, inline = _split_sources(source)
    if members_path is not None and any(not isinstance(s, Sequence) for s in inline):
        raise UsageError(
            "members_path needs a re-readable source: paths or a list, not an iterator"
        )
    resolved = resolve_analysts(analysts, llm_settings)
    context = TriageContext(
        inline_sources=inline,
        progress=progress,
        dead_letter_path=os.fspath(dead_letter_path) if dead_letter_path else None,
    )
    config: RunnableConfig = {
        "configurable": {"thread_id": thread_id or f"run-{time.time_ns()}"},
        "max_concurrency": max_concurrency,
    }
    state: TriageState = {"sources": paths, "input_format": input_format}
    started = time.perf_counter()

    async def run(saver: Checkpointer) -> dict[str, Any]:
        graph = build_triage_graph(
            factory, analysts=resolved, policy=policy, inventory=inventory, checkpointer=saver
        )
        try:
            final: dict[str, Any] = await graph.ainvoke(state, config, context=context)
        finally:
            await _close(resolved)
        return final

    async def main() -> dict[str, Any]:
        if not isinstance(checkpointer, str | os.PathLike):
            return await run(checkpointer)
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        async with AsyncSqliteSaver.from_conn_string(os.fspath(checkpointer)) as saver:
            return await run(saver)

    final = _run_sync(main)
    report = _report(report_cls, final, resolved, analysts is None, policy)
    report.timings["total"] = time.perf_counter() - started
    if members_path is not None:
        write_members(members_path, [*paths, *inline], factory(), report.incidents, input_format)
    return report


def _report(
    report_cls: type[FirewallReport],
    final: Mapping[str, Any],
    analysts: Sequence[Analyst],
    defaulted: bool,
    policy: ConsensusPolicy,
) -> FirewallReport:
    names = tuple(a.name for a in analysts)
    note = (
        "embedded analysts (rules, baseline): no key, no network"
        if defaulted
        else f"analysts chosen by the caller: {', '.join(names)}"
    )
    return report_cls(
        generated_at=datetime.now(UTC),
        input=InputStats.model_validate(final.get("input", {})),
        analysts=names,
        analysts_note=note,
        policy=policy.name,
        threshold=policy.threshold,
        incidents=tuple(Incident.model_validate(i) for i in final.get("incidents", [])),
        decisions=tuple(Decision.model_validate(d) for d in final.get("decisions", [])),
        dead_letters=tuple(DeadLetter.model_validate(d) for d in final.get("dead_letters", [])),
        timings=dict(final.get("timings", {})),
    )


def write_members(
    path: str | os.PathLike[str],
    sources: Sequence[Source],
    detector: Detector,
    incidents: Sequence[Incident],
    input_format: str | None = None,
) -> int:
    """Second streaming pass: write ``event_id,incident_id`` for every member event.

    Returns:
        The number of rows written.
    """
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["event_id", "incident_id"])
        if not incidents:
            return 0
        for _name, batch in EventStream(list(sources), input_format=input_format):
            assigned = detector.assign(batch, incidents)
            writer.writerows(assigned.select("event_id", "incident_id").iter_rows())
            rows += assigned.height
    return rows


def _split_sources(source: Any) -> tuple[list[str], list[Source]]:
    if isinstance(source, str | os.PathLike):
        return [os.fspath(source)], []
    if isinstance(source, Sequence) and source and all(isinstance(s, Path) for s in source):
        return [os.fspath(s) for s in source], []
    if isinstance(source, Iterable):
        return [], [source]
    raise UsageError(
        f"unsupported source {type(source).__name__}: give a path, a list of Paths, lines, "
        "dicts or Events"
    )


async def _close(analysts: Sequence[Analyst]) -> None:
    """Release what analysts opened for this run (SDK clients bound to this event loop)."""
    for analyst in analysts:
        close = getattr(analyst, "aclose", None)
        if close is not None:
            await close()


def _run_sync(make: Callable[[], Awaitable[_T]]) -> _T:
    """Run a coroutine to completion, also from inside a running event loop (notebooks)."""

    async def main() -> _T:
        return await make()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def iter_events(source: Source, input_format: str | None = None) -> Iterator[Event]:
    """Parse a source into Event objects (convenience for small inputs and tests)."""
    from .parsers.base import frame_to_events

    for name, batch in EventStream([source], input_format=input_format):
        yield from frame_to_events(batch.drop("source"), name)
