"""The generic triage graph: ingest -> enrich -> analysts (fan-out) -> decide -> route.

Each detector family builds it with its own detector, stage names and claim checks
(``graphs/firewall.py``, ``graphs/ids.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Checkpointer

from ..analysts.base import Analyst
from ..analysts.registry import resolve_analysts
from ..consensus import Check, ConsensusPolicy, get_policy
from ..detectors.base import Detector
from ..enrich.zones import AssetInventory
from .approval import ActionSink, make_approval_fan_out, make_approve
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

__all__ = ["NodeNames", "build_triage_graph"]


@dataclass(frozen=True)
class NodeNames:
    """Names of the five stages (they appear in checkpoints, streams and drawings)."""

    ingest: str = "parse_detect"
    enrich: str = "enrich"
    analyze: str = "analyze"
    decide: str = "consensus"
    route: str = "route"


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
    names: NodeNames = NodeNames(),
    checks: Sequence[Check] = (),
    approval: bool = False,
    action_sink: ActionSink | None = None,
) -> CompiledStateGraph[TriageState, TriageContext, TriageState, TriageState]:
    """Compile the generic triage graph around a detector factory.

    Args:
        detector: Zero-argument factory of the detector to run.
        analysts: Names, instances or a comma-separated string; default rules + baseline.
        policy: Consensus policy name or instance.
        threshold: Confidence threshold of the policy (ignored for a policy instance).
        inventory: Asset inventory for enrichment (default: RFC 1918 is internal).
        analyst_timeout: Seconds before an analyst call counts as failed (LLM analysts bound
            each provider call with their own ``LLMSettings.timeout`` instead, from when it is
            sent; see :func:`~siem_consensus.analysts.run_analyst`).
        checkpointer: Any LangGraph checkpointer; the graph runs async, so use
            ``AsyncSqliteSaver`` for SQLite.
        interrupt_before: Node names to pause before (resume with ``ainvoke(None, config)``).
        names: What the five stages are called in this graph.
        checks: Extra claim checks run before the vote (see ``consensus.verify_verdict``).
        approval: Add the human-approval stage after routing: one ``approve`` task per alert
            interrupts, then hands the approved actions to ``action_sink`` exactly once. Needs
            a checkpointer to resume after the interrupt.
        action_sink: Where approved actions go (see ``graphs.approval``).
    """
    resolved = resolve_analysts(analysts)
    chosen = get_policy(policy, threshold)
    graph: StateGraph[TriageState, TriageContext, TriageState, TriageState] = StateGraph(
        TriageState, context_schema=TriageContext
    )
    n = names
    graph.add_node(n.ingest, make_ingest(detector))
    graph.add_node(n.enrich, make_enrich(inventory or AssetInventory()))
    # Send delivers a task payload, not the state, so this node's input is not TriageState.
    graph.add_node(n.analyze, make_analyze(resolved, analyst_timeout))  # type: ignore[call-overload]
    graph.add_node(n.decide, make_consensus(chosen, resolved, checks))
    graph.add_node(n.route, route)
    graph.add_edge(START, n.ingest)
    graph.add_edge(n.ingest, n.enrich)
    fan_out = make_fan_out(resolved, analyze=n.analyze, otherwise=n.decide)
    graph.add_conditional_edges(n.enrich, fan_out, [n.analyze, n.decide])
    graph.add_edge(n.analyze, n.decide)
    graph.add_edge(n.decide, n.route)
    if approval:
        # Send delivers one alert to each approve task, not the state.
        graph.add_node("approve", make_approve(action_sink))  # type: ignore[arg-type]
        graph.add_conditional_edges(n.route, make_approval_fan_out(), ["approve", END])
        graph.add_edge("approve", END)
    else:
        graph.add_edge(n.route, END)
    return graph.compile(
        checkpointer=checkpointer,
        interrupt_before=list(interrupt_before) if interrupt_before else None,
    )
