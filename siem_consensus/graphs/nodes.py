"""Nodes shared by every triage graph, and the state they pass along.

State holds incidents, verdicts and decisions as JSON-ready dicts (never the event stream),
so any LangGraph checkpointer can serialise it at every step. The raw events are consumed
inside one streaming node (:func:`make_ingest`) that emits incidents.
"""

from __future__ import annotations

import itertools
import operator
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Protocol, TypedDict

from langgraph.runtime import Runtime
from langgraph.types import Send

from ..analysts.admission import admit
from ..analysts.base import Analyst, run_analyst, run_analyst_batch
from ..consensus import Check, ConsensusPolicy, decide
from ..detectors.base import Detector, detect_stream
from ..enrich.zones import AssetInventory, enrich_incident
from ..models import Incident, Outcome, Severity, Verdict
from ..parsers.reading import DEFAULT_LIMITS, Limits
from ..sources import EventStream, Progress, Source

__all__ = [
    "RuntimeNode",
    "StateNode",
    "TriageContext",
    "TriageState",
    "make_analyze",
    "make_consensus",
    "make_enrich",
    "make_fan_out",
    "make_ingest",
    "route",
]


def _merge(left: dict[str, float], right: dict[str, float]) -> dict[str, float]:
    return {**left, **right}


def _merge_any(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    return {**left, **right}


class TriageState(TypedDict, total=False):
    """What flows between nodes (all JSON-ready, so checkpoints stay small and portable)."""

    sources: list[str]
    input_format: str | None
    input: dict[str, Any]
    dead_letters: list[dict[str, Any]]
    incidents: list[dict[str, Any]]
    verdicts: Annotated[list[dict[str, Any]], operator.add]
    decisions: list[dict[str, Any]]
    routes: dict[str, list[str]]
    timings: Annotated[dict[str, float], _merge]
    approvals: Annotated[dict[str, dict[str, Any]], _merge_any]
    actions_log: Annotated[list[dict[str, Any]], operator.add]


class StateNode(Protocol):
    """A node reading the triage state."""

    def __call__(self, state: TriageState) -> Any:
        """Return the state update."""


class RuntimeNode(Protocol):
    """A node reading the triage state and the run-scoped context."""

    def __call__(self, state: TriageState, *, runtime: Runtime[TriageContext]) -> Any:
        """Return the state update."""


@dataclass
class TriageContext:
    """Run-scoped, never checkpointed: in-memory inputs and callbacks.

    Attributes:
        inline_sources: Inputs that are not paths (lines, dicts, Events); read after
            ``state["sources"]``.
        progress: Called as input is read.
        dead_letter_path: Where to write every dead letter as JSON lines.
        chunk_lines: Lines per parsed batch.
        limits: Caps on line length and (decompressed) size of each input.
        timezone: IANA zone of time stamps written without one (UTC when None).
    """

    inline_sources: Sequence[Source] = ()
    progress: Progress | None = None
    dead_letter_path: str | None = None
    chunk_lines: int = 100_000
    limits: Limits = DEFAULT_LIMITS
    timezone: str | None = None


def make_ingest(
    detector_factory: Callable[[], Detector],
) -> RuntimeNode:
    """Node: parse and detect in one streaming pass; emits incidents and input accounting."""

    def ingest(state: TriageState, *, runtime: Runtime[TriageContext]) -> dict[str, Any]:
        started = time.perf_counter()
        ctx = runtime.context or TriageContext()
        stream = EventStream(
            [*state.get("sources", []), *ctx.inline_sources],
            input_format=state.get("input_format"),
            chunk_lines=ctx.chunk_lines,
            dead_letter_path=ctx.dead_letter_path,
            progress=ctx.progress,
            limits=ctx.limits,
            timezone=ctx.timezone,
        )
        incidents = stream.ids.incidents(detect_stream(stream, detector_factory()))
        return {
            "input": stream.stats.model_dump(),
            "dead_letters": [d.model_dump() for d in stream.dead_letters],
            "incidents": [i.model_dump(mode="json") for i in incidents],
            "timings": {"parse_detect": time.perf_counter() - started},
        }

    return ingest


def make_enrich(inventory: AssetInventory) -> StateNode:
    """Node: attach zones and asset criticality to every incident."""

    def enrich(state: TriageState) -> dict[str, Any]:
        started = time.perf_counter()
        incidents = [
            enrich_incident(Incident.model_validate(i), inventory).model_dump(mode="json")
            for i in state.get("incidents", [])
        ]
        return {"incidents": incidents, "timings": {"enrich": time.perf_counter() - started}}

    return enrich


def _tier_order(incident: dict[str, Any]) -> int:
    return -Severity(incident["severity"]).rank


def _tasks(incidents: list[dict[str, Any]], analyst: Analyst, node: str = "analyze") -> list[Send]:
    """High tiers one per task, first; batchable low tiers grouped ``batch_size`` at a time."""
    size = int(getattr(analyst, "batch_size", 1))
    batchable: Callable[[Incident], bool] | None = getattr(analyst, "batchable", None)
    single, grouped = [], []
    for incident in sorted(incidents, key=_tier_order):
        if size > 1 and batchable is not None and batchable(Incident.model_validate(incident)):
            grouped.append(incident)
        else:
            single.append(incident)
    sends = [Send(node, {"incident": i, "analyst": analyst.name}) for i in single]
    for start in range(0, len(grouped), max(size, 1)):
        chunk = grouped[start : start + size]
        sends.append(Send(node, {"incidents": chunk, "analyst": analyst.name}))
    return sends


def make_fan_out(
    analysts: Sequence[Analyst], *, analyze: str = "analyze", otherwise: str = "consensus"
) -> Callable[[TriageState], list[Send] | str]:
    """Conditional edge: parallel ``analyze`` tasks, each for one analyst.

    A task carries one incident, or for analysts that batch (``batch_size > 1``) a group of
    low-tier incidents; high and critical incidents are always alone and sent first. Tasks
    are interleaved across analysts (incident by incident), so a budget runs out between
    incidents rather than after the first analyst.
    """

    def fan_out(state: TriageState) -> list[Send] | str:
        incidents = state.get("incidents", [])
        # issue 11: interleave per incident (see analysts/admission.py)
        per_analyst = [_tasks(incidents, analyst, analyze) for analyst in analysts]
        sends = [s for group in itertools.zip_longest(*per_analyst) for s in group if s]
        return sends or otherwise

    return fan_out


def make_analyze(
    analysts: Sequence[Analyst], timeout: float | None
) -> Callable[[Mapping[str, Any]], Any]:
    """Node: one analyst judges one incident (or one batch). It sees nothing else."""
    by_name = {a.name: a for a in analysts}

    async def analyze(task: Mapping[str, Any]) -> dict[str, Any]:
        analyst = by_name[task["analyst"]]
        raw = task["incidents"] if "incidents" in task else [task["incident"]]
        # issue 11: an incident gets all its budgeted analysts or none (analysts/admission.py)
        cases, verdicts = await admit(analysts, analyst, [Incident.model_validate(i) for i in raw])
        if "incidents" in task and cases:
            verdicts += await run_analyst_batch(analyst, cases, timeout)
        elif cases:
            verdicts.append(await run_analyst(analyst, cases[0], timeout))
        return {"verdicts": [v.model_dump(mode="json") for v in verdicts]}

    return analyze


def make_consensus(
    policy: ConsensusPolicy, analysts: Sequence[Analyst], checks: Sequence[Check] = ()
) -> StateNode:
    """Node: verify claims and apply the policy, one decision per incident.

    The vote is over the configured analysts: each incident's decision holds exactly one
    verdict per analyst, in the order the analysts were given (whatever order they finished
    in); an analyst with no verdict for an incident gets an ``error`` verdict there.

    Raises:
        ConfigError: The policy cannot work with these analysts (e.g. a quorum larger than
            the number of analysts, or weights naming an analyst that is not configured).
    """
    names = [a.name for a in analysts]
    policy.check_analysts(names)

    def consensus(state: TriageState) -> dict[str, Any]:
        by_incident: dict[str, list[Verdict]] = {}
        for raw in state.get("verdicts", []):
            verdict = Verdict.model_validate(raw)
            by_incident.setdefault(verdict.incident_id, []).append(verdict)
        decisions = []
        for raw in state.get("incidents", []):
            incident = Incident.model_validate(raw)
            verdicts = by_incident.get(incident.id, [])
            decision = decide(incident, verdicts, policy, checks, analysts=names)
            decisions.append(decision.model_dump(mode="json"))
        return {"decisions": decisions}

    return consensus


def route(state: TriageState) -> dict[str, Any]:
    """Node: sort decisions into the alert queue, the human review queue and the log."""
    queues: dict[str, list[str]] = {"alert": [], "review": [], "dismissed": []}
    target = {
        Outcome.ALERT: "alert",
        Outcome.NEEDS_REVIEW: "review",
        Outcome.DISMISSED: "dismissed",
    }
    for decision in state.get("decisions", []):
        queues[target[Outcome(decision["outcome"])]].append(decision["incident_id"])
    return {"routes": queues}
