"""The firewall triage graph: parse+detect -> enrich -> analysts (fan-out) -> consensus -> route."""

from __future__ import annotations

from typing import Any, Unpack

from ..consensus import ConsensusPolicy
from ._family import FamilyGraphOptions, TriageGraph, build_family_graph

__all__ = ["build_firewall_graph"]


def build_firewall_graph(
    *,
    thresholds: Any = None,
    policy: str | ConsensusPolicy = "unanimous",
    threshold: float = 0.8,
    **options: Unpack[FamilyGraphOptions],
) -> TriageGraph:
    """Compile the firewall triage graph (see :func:`build_triage_graph` for arguments).

    Args:
        thresholds: ``FirewallThresholds`` for the detector (defaults when None).
        policy: Consensus policy name or instance.
        threshold: Confidence threshold of the policy (ignored for a policy instance).
        **options: ``analysts``, ``inventory``, ``analyst_timeout``, ``checkpointer``,
            ``interrupt_before``, as for :func:`build_triage_graph`.

    Invoke with ``{"sources": [paths], "input_format": None}`` and, for in-memory inputs,
    ``context=TriageContext(inline_sources=[lines])``; the graph is async (``ainvoke``).
    """
    return build_family_graph("firewall", thresholds, policy, threshold, options)
