"""The IDS graph: parse -> enrich -> analyze (parallel, independent) -> validate -> alert.

``parse`` streams the alerts through the IDS correlator (parsing and correlation are one node,
so the state never holds the alert stream). ``validate`` checks every analyst claim in code
(cited alerts exist, techniques exist in ATT&CK, claimed stages were observed) and applies the
consensus policy: a claim that fails makes that verdict an abstention, which changes the
outcome. ``alert`` routes decisions to the alert queue, human review or the log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Checkpointer

from ..analysts.base import Analyst
from ..consensus import ConsensusPolicy
from ..detectors.base import Detector, get_detector
from ..enrich.attack import tactic_name, technique
from ..enrich.zones import AssetInventory
from ..models import Incident, Verdict
from .nodes import TriageContext, TriageState
from .triage import NodeNames, build_triage_graph

__all__ = ["IDS_NODES", "build_ids_graph", "stages_observed"]

IDS_NODES = NodeNames(
    ingest="parse", enrich="enrich", analyze="analyze", decide="validate", route="alert"
)
"""Stage names of the IDS graph (the chapter's Parse -> Enrich -> Analyze -> Validate -> Alert)."""


def stages_observed(verdict: Verdict, incident: Incident) -> list[str]:
    """Claim check: a threat verdict may only cite techniques of tactics the alerts showed.

    An analyst that claims, say, exfiltration (T1048) for an incident whose alerts never
    reached that stage makes an unsupported claim; its verdict becomes an abstention.
    """
    if not verdict.is_threat:
        return []
    observed = set(incident.stats.get("tactics") or ()) | {a.tactic for a in incident.attack}
    if not observed:
        return []
    problems = []
    for technique_id in verdict.attack_techniques:
        record = technique(technique_id)
        if record is None:
            continue  # unknown ids are reported by the generic check
        tactics = {tactic_name(t) for t in record.get("tactics", [])}
        if not tactics & observed:
            problems.append(
                f"claims {technique_id} ({', '.join(sorted(tactics))}) but no alert of that "
                "stage was observed"
            )
    return problems


def build_ids_graph(
    *,
    detector: Callable[[], Detector] | None = None,
    analysts: Sequence[str | Analyst] | str | None = None,
    policy: str | ConsensusPolicy = "majority",
    threshold: float = 0.8,
    inventory: AssetInventory | None = None,
    analyst_timeout: float | None = 120.0,
    checkpointer: Checkpointer = None,
    interrupt_before: Sequence[str] | None = None,
) -> CompiledStateGraph[TriageState, TriageContext, TriageState, TriageState]:
    """Compile the IDS alert-correlation graph.

    Args:
        detector: Factory of the correlator (default: ``IdsCorrelator()`` with the inventory).
        analysts: Names, instances or a comma-separated string; default rules + baseline.
        policy: Consensus policy (default ``majority``: more than half must agree).
        threshold: Confidence threshold of the policy.
        inventory: Asset inventory, for the correlator's criticality and for zones.
        analyst_timeout: Seconds before an analyst call counts as failed.
        checkpointer: Any async LangGraph checkpointer (``AsyncSqliteSaver`` for SQLite).
        interrupt_before: Stage names to pause before (``parse``, ..., ``validate``, ``alert``).

    Invoke with ``{"sources": [paths]}`` or ``context=TriageContext(inline_sources=[...])``.
    """
    factory = detector or _default_correlator(inventory)
    return build_triage_graph(
        factory,
        analysts=analysts,
        policy=policy,
        threshold=threshold,
        inventory=inventory,
        analyst_timeout=analyst_timeout,
        checkpointer=checkpointer,
        interrupt_before=interrupt_before,
        names=IDS_NODES,
        checks=(stages_observed,),
    )


def _default_correlator(inventory: AssetInventory | None) -> Callable[[], Detector]:
    correlator = get_detector("ids")

    def factory() -> Detector:
        return correlator(inventory=inventory)  # type: ignore[call-arg]

    return factory
