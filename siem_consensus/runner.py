"""Running a triage graph to a typed report: the machinery behind the entry points."""

from __future__ import annotations

import asyncio
import concurrent.futures
import csv
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from math import inf
from pathlib import Path
from typing import Any, TypeVar

from langchain_core.runnables import RunnableConfig
from langgraph.types import Checkpointer

from .analysts.base import Analyst
from .analysts.llm.base import LLMSettings
from .analysts.llm.config import describe_privacy
from .analysts.registry import resolve_analysts
from .connectors.base import Connector, ConnectorQuery
from .consensus import Check, ConsensusPolicy
from .detectors.base import Detector
from .enrich.zones import AssetInventory
from .errors import SiemConsensusError, UsageError
from .graphs.approval import ActionSink
from .graphs.nodes import TriageContext, TriageState
from .graphs.triage import NodeNames, build_triage_graph
from .models import DeadLetter, Decision, Incident, InputStats, WriteFailure, WriteResult
from .parsers._zone import check_zone
from .parsers.reading import DEFAULT_LIMITS, Limits
from .report import Report
from .sources import EventStream, Progress, Source

__all__ = ["RunOptions", "deliver", "run_sync", "run_triage", "write_members"]

_T = TypeVar("_T")
_R = TypeVar("_R", bound=Report)


@dataclass
class RunOptions:
    """Everything an entry point passes to :func:`run_triage` (see ``analyze_firewall``)."""

    policy: ConsensusPolicy
    input_format: str | None = None
    analysts: Sequence[str | Analyst] | str | None = None
    inventory: AssetInventory | None = None
    members_path: str | os.PathLike[str] | None = None
    dead_letter_path: str | os.PathLike[str] | None = None
    progress: Progress | None = None
    checkpointer: Checkpointer | str | os.PathLike[str] = None
    thread_id: str | None = None
    max_concurrency: int = 16
    llm_settings: LLMSettings | None = None
    analyst_timeout: float | None = None
    names: NodeNames = field(default_factory=NodeNames)
    checks: Sequence[Check] = ()
    approval: bool = False
    action_sink: ActionSink | None = None
    sinks: Sequence[Connector] = ()
    limits: Limits = DEFAULT_LIMITS
    timezone: str | None = None


def run_triage(
    factory: Callable[[], Detector], report_cls: type[_R], source: Any, options: RunOptions
) -> _R:
    """Build the graph around ``factory``, run it on ``source`` and assemble the report."""
    check_zone(options.timezone)
    paths, inline = _split_sources(source)
    if options.members_path is not None and not all(map(_rereadable, inline)):
        raise UsageError(
            "members_path needs a re-readable source: paths, a list or a connector search, not "
            "an iterator nor a reader that moves on (a Kafka connection with group_id)"
        )
    analysts = resolve_analysts(options.analysts, _llm_settings(options))
    timeout: dict[str, Any] = {}  # the graph's own default unless the run sets one
    if options.analyst_timeout is not None:
        timeout["analyst_timeout"] = options.analyst_timeout
    context = TriageContext(
        inline_sources=inline,
        progress=options.progress,
        dead_letter_path=os.fspath(options.dead_letter_path) if options.dead_letter_path else None,
        limits=options.limits,
        timezone=options.timezone,
    )
    config: RunnableConfig = {
        "configurable": {"thread_id": options.thread_id or f"run-{time.time_ns()}"},
        "max_concurrency": options.max_concurrency,
    }
    state: TriageState = {"sources": paths, "input_format": options.input_format}
    started = time.perf_counter()

    async def run(saver: Checkpointer) -> dict[str, Any]:
        graph = build_triage_graph(
            factory,
            analysts=analysts,
            policy=options.policy,
            inventory=options.inventory,
            checkpointer=saver,
            names=options.names,
            checks=options.checks,
            approval=options.approval,
            action_sink=options.action_sink,
            **timeout,
        )
        try:
            final: dict[str, Any] = await graph.ainvoke(state, config, context=context)
        finally:
            await _close(analysts)
        return final

    checkpointer = options.checkpointer
    if checkpointer is None and options.approval:
        from langgraph.checkpoint.memory import InMemorySaver

        checkpointer = InMemorySaver()  # interrupts need one; pass a SQLite path to persist
    final = run_sync(lambda: _with_checkpointer(checkpointer, run))
    report = _report(report_cls, final, analysts, options)
    report.pending_approvals = tuple(
        {"thread_id": config["configurable"]["thread_id"], "interrupt_id": i.id, **i.value}
        for i in final.get("__interrupt__", ())
    )
    report.timings["total"] = time.perf_counter() - started
    report.deliveries = tuple(deliver(report, sink) for sink in options.sinks)
    if options.members_path is not None:
        write_members(
            options.members_path,
            [*paths, *inline],
            factory(),
            report.incidents,
            options.input_format,
            options.limits,
            options.timezone,
        )
    return report


def _llm_settings(options: RunOptions) -> LLMSettings | None:
    """The settings of LLM analysts given by name, with ``analyst_timeout`` applied.

    Raises:
        UsageError: ``analyst_timeout`` is not a positive, finite number of seconds.
    """
    timeout = options.analyst_timeout
    if timeout is None:
        return options.llm_settings
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout < inf:
        raise UsageError(f"analyst_timeout must be a positive number of seconds, got {timeout!r}")
    return replace(options.llm_settings or LLMSettings(), timeout=float(timeout))


def deliver(report: Report, sink: Connector) -> WriteResult:
    """Write the report's decisions to one sink; a failed call lists every decision as failed.

    A sink that cannot be reached (ConnectorError) or cannot write (ConfigError, e.g. a Splunk
    connection without ``hec_token``) does not lose the run: the report is still returned,
    with a :class:`~siem_consensus.models.WriteResult` whose failures name each decision and
    whose ``error`` says why (also when there was no decision to write).
    """
    try:
        result = sink.write_decisions(report)
    except SiemConsensusError as exc:
        failures = tuple(
            WriteFailure(doc_id="", incident_id=d.incident_id, reason=str(exc))
            for d in report.decisions
        )
        result = WriteResult(target="", attempted=len(failures), failures=failures, error=str(exc))
    name = result.connector or sink.name or type(sink).__name__
    return result.model_copy(update={"connector": name})


def _rereadable(source: Source) -> bool:
    if isinstance(source, ConnectorQuery):
        return source.connector.rereadable
    return isinstance(source, Sequence)


async def _with_checkpointer(
    checkpointer: Checkpointer | str | os.PathLike[str],
    run: Callable[[Checkpointer], Awaitable[dict[str, Any]]],
) -> dict[str, Any]:
    if not isinstance(checkpointer, str | os.PathLike):
        return await run(checkpointer)
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    async with AsyncSqliteSaver.from_conn_string(os.fspath(checkpointer)) as saver:
        return await run(saver)


def _report(
    report_cls: type[_R],
    final: Mapping[str, Any],
    analysts: Sequence[Analyst],
    options: RunOptions,
) -> _R:
    names = tuple(a.name for a in analysts)
    note = (
        "embedded analysts (rules, baseline): no key, no network"
        if options.analysts is None
        else f"analysts chosen by the caller: {', '.join(names)}"
    )
    if privacy := describe_privacy(analysts):  # issue 11: say per LLM analyst
        note = f"{note}; {privacy}"
    return report_cls(
        generated_at=datetime.now(UTC),
        input=InputStats.model_validate(final.get("input", {})),
        analysts=names,
        analysts_note=note,
        policy=options.policy.name,
        threshold=options.policy.threshold,
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
    limits: Limits = DEFAULT_LIMITS,
    timezone: str | None = None,
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
        stream = EventStream(
            list(sources), input_format=input_format, limits=limits, timezone=timezone
        )
        for _name, batch in stream:
            assigned = stream.ids.column(detector.assign(batch, incidents))
            writer.writerows(assigned.select("event_id", "incident_id").iter_rows())
            rows += assigned.height
    return rows


def _split_sources(source: Any) -> tuple[list[str], list[Source]]:
    if isinstance(source, Connector):
        return [], [source.search()]
    if isinstance(source, str | os.PathLike):
        return [os.fspath(source)], []
    if isinstance(source, Sequence) and source and all(isinstance(s, Path) for s in source):
        return [os.fspath(s) for s in source], []
    if isinstance(source, Iterable):
        return [], [source]
    raise UsageError(
        f"unsupported source {type(source).__name__}: give a path, a list of Paths, lines, "
        "dicts, Events, or a connector (or its search())"
    )


async def _close(analysts: Sequence[Analyst]) -> None:
    """Release what analysts opened for this run (SDK clients bound to this event loop)."""
    for analyst in analysts:
        close = getattr(analyst, "aclose", None)
        if close is not None:
            await close()


def run_sync(make: Callable[[], Awaitable[_T]]) -> _T:
    """Run a coroutine to completion, also from inside a running event loop (notebooks)."""

    async def main() -> _T:
        return await make()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()
