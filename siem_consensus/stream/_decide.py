"""Decide: candidate incidents through the batch command's own triage graph.

Nothing here decides. A candidate incident is handed to :func:`~siem_consensus.runner.run_triage`
with a detector that "finds" exactly the given incidents, so enrichment, the analysts
(independent, with their timeouts, budgets and cache), claim checks, the consensus policy and
the approval stage are the ones the batch command runs. The decision leaves as the same
document every connector writes (``_id`` deterministic), keyed by incident id.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import polars as pl

from ..analysts.llm.base import LLMSettings
from ..connectors.base import Connector
from ..consensus import get_policy
from ..detectors.base import Detector
from ..models import Incident
from ..report import Report
from ..runner import RunOptions, run_triage
from ._families import Family

__all__ = ["DecideSettings", "decide_incidents"]


class _Given(Detector):
    """A detector that returns incidents found elsewhere (by the stream's detect stage)."""

    name: ClassVar[str] = "stream-given"
    description: ClassVar[str] = "Incidents detected upstream by a stream job."

    def __init__(self, incidents: Sequence[Incident]) -> None:
        self._incidents = list(incidents)

    def update(self, batch: pl.DataFrame) -> None:
        """Nothing to fold: the events were read upstream."""

    def finish(self) -> list[Incident]:
        """The given incidents."""
        return list(self._incidents)

    def assign(self, batch: pl.DataFrame, incidents: Sequence[Incident]) -> pl.DataFrame:
        """No membership: the events are not here."""
        return pl.DataFrame(schema={"event_id": pl.String, "incident_id": pl.String})


@dataclass
class DecideSettings:
    """How the decide stage runs the family's graph (the batch command's options).

    Attributes:
        analysts: Analyst names (``"rules,baseline"``); the embedded ones when None.
        policy: Consensus policy name; the family's default when None.
        threshold: Confidence threshold of the policy; the family's default when None.
        llm_settings: Budget, cache and retries of LLM analysts, per decided batch.
        checkpoint: SQLite file of the approval flow (insider): alerts wait there for
            ``siem-consensus review``.
        sinks: Connectors that also receive every decision (deterministic document ids).
        analyst_timeout: Seconds an analyst call may take once sent, as the batch commands'
            ``--analyst-timeout`` (LLM analysts: each HTTP attempt); the graph's default when
            None.
    """

    analysts: str | None = None
    policy: str | None = None
    threshold: float | None = None
    llm_settings: LLMSettings | None = None
    checkpoint: str | os.PathLike[str] | None = None
    sinks: Sequence[Connector] = field(default_factory=tuple)
    analyst_timeout: float | None = None


def decide_incidents(
    family: Family, incidents: Sequence[Mapping[str, Any]], settings: DecideSettings
) -> Report:
    """Run the family's triage graph over these incidents; the report holds their decisions.

    Every sink in ``settings.sinks`` receives the decisions; what each did is in
    ``report.deliveries``.
    """
    given = [Incident.model_validate(raw) for raw in incidents]
    threshold = family.threshold if settings.threshold is None else settings.threshold
    options = RunOptions(
        policy=get_policy(settings.policy or family.policy, threshold),
        analysts=settings.analysts,
        llm_settings=settings.llm_settings,
        analyst_timeout=settings.analyst_timeout,
        names=family.names,
        checks=family.checks,
        approval=family.approval,
        checkpointer=settings.checkpoint if family.approval else None,
        thread_id=f"stream-{family.name}-{given[0].id}" if given else None,
        sinks=settings.sinks,
    )
    return run_triage(lambda: _Given(given), family.report, [], options)
