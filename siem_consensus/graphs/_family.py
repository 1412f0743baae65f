"""The triage graph of a detector family given by its registered name (firewall, auth).

``build_firewall_graph`` and ``build_auth_graph`` differ only in the detector they run: each
is a typed front over :func:`build_family_graph`, which looks the detector up by name and
compiles the generic graph around it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict

from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Checkpointer

from ..analysts.base import Analyst
from ..consensus import ConsensusPolicy
from ..detectors.base import Detector, get_detector
from ..enrich.zones import AssetInventory
from .nodes import TriageContext, TriageState
from .triage import build_triage_graph

__all__ = ["FamilyGraphOptions", "TriageGraph", "build_family_graph"]

TriageGraph = CompiledStateGraph[TriageState, TriageContext, TriageState, TriageState]
"""A compiled triage graph (what every ``build_*_graph`` returns)."""


class FamilyGraphOptions(TypedDict, total=False):
    """What a family's builder passes on to :func:`~.triage.build_triage_graph` unchanged
    (the same defaults: rules + baseline analysts, RFC 1918 internal, 120 s per analyst call,
    no checkpointer, no interrupt)."""

    analysts: Sequence[str | Analyst] | str | None
    inventory: AssetInventory | None
    analyst_timeout: float | None
    checkpointer: Checkpointer
    interrupt_before: Sequence[str] | None


def build_family_graph(
    family: str,
    thresholds: Any,
    policy: str | ConsensusPolicy,
    threshold: float,
    options: FamilyGraphOptions,
) -> TriageGraph:
    """Compile the triage graph around the detector registered as ``family``.

    Args:
        family: Registered detector name (``detectors.base.get_detector``).
        thresholds: The detector's thresholds model; its defaults when None.
        policy: Consensus policy name or instance.
        threshold: Confidence threshold of the policy.
        options: The other keywords of ``build_triage_graph``.
    """
    detector_cls = get_detector(family)

    def factory() -> Detector:
        return detector_cls() if thresholds is None else detector_cls(thresholds)  # type: ignore[call-arg]

    return build_triage_graph(factory, policy=policy, threshold=threshold, **options)
