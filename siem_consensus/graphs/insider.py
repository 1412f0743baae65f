"""The insider-threat graph: accusing an employee is career-impacting, so everything is gated.

detect -> enrich -> analysts in parallel (independent) -> unanimous consensus at a high
threshold -> route -> approve (a LangGraph interrupt per alert: a human approves or rejects
each recommended action) -> execute (approved actions recorded exactly once).

Disagreement gives "conflicting analysis - manual investigation required" and nobody is
accused: the decision carries no recommended actions. Any failure gives a degraded
``needs_review``. State lives in a checkpointer (SQLite), so an approval can be given after a
process restart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Checkpointer

from ..analysts.base import Analyst
from ..consensus import ConsensusPolicy
from ..detectors.base import Detector, get_detector
from .approval import ActionSink
from .nodes import TriageContext, TriageState
from .triage import NodeNames, build_triage_graph

__all__ = ["INSIDER_NODES", "INSIDER_THRESHOLD", "build_insider_graph"]

INSIDER_NODES = NodeNames(ingest="detect")
INSIDER_THRESHOLD = 0.85
"""Default unanimous threshold: higher than elsewhere, since a person's career is at stake."""


def build_insider_graph(
    *,
    detector: Callable[[], Detector] | None = None,
    analysts: Sequence[str | Analyst] | str | None = None,
    policy: str | ConsensusPolicy = "unanimous",
    threshold: float = INSIDER_THRESHOLD,
    analyst_timeout: float | None = 120.0,
    checkpointer: Checkpointer = None,
    action_sink: ActionSink | None = None,
) -> CompiledStateGraph[TriageState, TriageContext, TriageState, TriageState]:
    """Compile the insider graph (with the human-approval stage).

    Args:
        detector: Factory of the detector (default ``InsiderDetector()``).
        analysts: Default rules + baseline; add ``claude``/``openai`` when keys exist.
        policy: ``unanimous`` by default: every analyst must independently agree.
        threshold: 0.85 by default.
        analyst_timeout: Seconds before an analyst call counts as failed.
        checkpointer: Needed to pause for approval and resume (``AsyncSqliteSaver``).
        action_sink: Receives approved actions (``SqliteActionLog`` records them).
    """
    return build_triage_graph(
        detector or get_detector("insider"),
        analysts=analysts,
        policy=policy,
        threshold=threshold,
        analyst_timeout=analyst_timeout,
        checkpointer=checkpointer,
        names=INSIDER_NODES,
        approval=True,
        action_sink=action_sink,
    )
