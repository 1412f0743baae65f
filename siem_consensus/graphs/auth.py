"""The authentication triage graph: parse+detect -> enrich -> analysts (fan-out) -> consensus
-> route."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Checkpointer

from ..analysts.base import Analyst
from ..consensus import ConsensusPolicy
from ..detectors.base import Detector, get_detector
from ..enrich.zones import AssetInventory
from .nodes import TriageContext, TriageState
from .triage import build_triage_graph

__all__ = ["build_auth_graph"]


def build_auth_graph(
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
    """Compile the authentication triage graph (see :func:`build_triage_graph` for arguments).

    Args:
        thresholds: ``AuthThresholds`` for the detector (defaults when None).

    Invoke with ``{"sources": [paths], "input_format": None}`` and, for in-memory inputs,
    ``context=TriageContext(inline_sources=[lines])``; the graph is async (``ainvoke``).
    """
    detector_cls = get_detector("auth")

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
