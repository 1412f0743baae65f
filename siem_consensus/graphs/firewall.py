"""The firewall triage graph: parse+detect -> enrich -> analysts (fan-out) -> consensus -> route."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Checkpointer

from ..analysts.base import Analyst, resolve_analysts
from ..consensus import ConsensusPolicy, get_policy
from ..detectors.base import Detector, get_detector
from ..enrich.zones import AssetInventory
from .nodes import (
    TriageContext,
    TriageState,
    make_analyze,
    make_consensus,
    make_enrich,
    make_fan_out,
    make_ingest,
    route,
)

__all__ = ["build_firewall_graph", "build_triage_graph"]


def build_triage_graph(
    detector: Callable[[], Detector],
    *,
    analysts: Sequence[str | Analyst] | str | None = None,
    policy: str | ConsensusPolicy = "unanimous",
    threshold: float = 0.8,
    inventory: AssetInventory | None = None,
    analyst_timeout: float | None = 120.0,
    checkpointer: Checkpointer = None,
    interrupt_before: Sequence[str] | None = None,
) -> CompiledStateGraph[TriageState, TriageContext, TriageState, TriageState]:
    """Compile the generic triage graph around a detector factory.

    Args:
        detector: Zero-argument factory of the detector to run.
        analysts: Names, instances or a comma-separated string; default rules + baseline.
        policy: Consensus policy name or instance.
        threshold: Confidence threshold of the policy (ignored for a policy instance).
        inventory: Asset inventory for enrichment (default: RFC 1918 is internal).
        analyst_timeout: Seconds before an analyst call counts as failed.
        checkpointer: Any LangGraph checkpointer; the graph runs async, so use
            ``AsyncSqliteSaver`` for SQLite.
        interrupt_before: Node names to pause before (resume with ``ainvoke(None, config)``).
    """
    resolved = resolve_analysts(analysts)
    chosen = get_policy(policy, threshold)
    graph: StateGraph[TriageState, TriageContext, TriageState, TriageState] = StateGraph(
        TriageState, context_schema=TriageContext
    )
    graph.add_node("parse_detect", make_ingest(detector))
    graph.add_node("enrich", make_enrich(inventory or AssetInventory()))
    # Send delivers a task payload, not the state, so this node's input is not TriageState.
    graph.add_node("analyze", make_analyze(resolved, analyst_timeout))  # type: ignore[call-overload]
    graph.add_node("consensus", make_consensus(chosen, resolved))
    graph.add_node("route", route)
    graph.add_edge(START, "parse_detect")
    graph.add_edge("parse_detect", "enrich")
    graph.add_conditional_edges("enrich", make_fan_out(resolved), ["analyze", "consensus"])
    graph.add_edge("analyze", "consensus")
    graph.add_edge("consensus", "route")
    graph.add_edge("route", END)
    return graph.compile(
        checkpointer=checkpointer,
        interrupt_before=list(interrupt_before) if interrupt_before else None,
    )


def build_firewall_graph(
    *,
    thresholds: Any = None,
    analysts: Sequence[str | Analyst] | str | None = None,
    policy: str | ConsensusPolicy = "unanimous",
    threshold: float = 0.8,
    inventory: AssetInventory | None = None,
    analyst_timeout: float | None = 120.0,
    checkpointer: Checkpointer = None,
    interrupt_before: Sequence[str] | None = None,
) -> CompiledStateGraph[TriageState, TriageContext, TriageState, TriageState]:
    """Compile the firewall triage graph (see :func:`build_triage_graph` for arguments).

    Args:
        thresholds: ``FirewallThresholds`` for the detector (defaults when None).

    Invoke with ``{"sources": [paths], "input_format": None}`` and, for in-memory inputs,
    ``context=TriageContext(inline_sources=[lines])``; the graph is async (``ainvoke``).
    """
    detector_cls = get_detector("firewall")

    def factory() -> Detector:
        return detector_cls() if thresholds is None else detector_cls(thresholds)  # type: ignore[call-arg]

    return build_triage_graph(
        factory,
        analysts=analysts,
        policy=policy,
        threshold=threshold,
        inventory=inventory,
        analyst_timeout=analyst_timeout,
        checkpointer=checkpointer,
        interrupt_before=interrupt_before,
    )
