"""The topics of a stream job, named after its input topic and family.

For input ``asa`` and family ``firewall``:

==============================  ==========  ==============================================
topic                           key         value
==============================  ==========  ==============================================
``asa``                         any         one raw record (log line or ECS JSON)
``asa.firewall.events``         entity      an event row (see ``_codec``), or a marker
``asa.firewall.candidates``     incident    ``{"kind": "candidate", "incident"}``, or a marker
``asa.firewall.population``     session     a session's population share; end records
``asa.firewall.budget``         group       the LLM budget ledger (``_ledger``), one partition
``asa.firewall.decisions``      incident    ``{"decision", "incident"}``; compacted
``asa.firewall.dead-letters``   topic:p:o   the dead letter, with partition and offset
==============================  ==========  ==============================================

Derived topics get the input topic's partition count (the population topic has one). The
engine adds its own changelog topics for the state stores (``changelog__<group>--...``), compacted.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["StreamTopics"]


@dataclass(frozen=True)
class StreamTopics:
    """Names of every topic of a stream job.

    Args:
        source: The input topic.
        family: ``firewall``, ``ids`` or ``insider``.
    """

    source: str
    family: str

    def _derived(self, suffix: str) -> str:
        return f"{self.source}.{self.family}.{suffix}"

    @property
    def events(self) -> str:
        """Events keyed by entity."""
        return self._derived("events")

    @property
    def candidates(self) -> str:
        """Candidate incidents keyed by incident id."""
        return self._derived("candidates")

    @property
    def decisions(self) -> str:
        """Decisions keyed by incident id (log-compacted: the latest per incident stays)."""
        return self._derived("decisions")

    @property
    def population(self) -> str:
        """Population shares keyed by session, one partition, compacted (``_population``)."""
        return self._derived("population")

    @property
    def budget(self) -> str:
        """The LLM budget ledger shared by the workers, one partition, kept forever."""
        return self._derived("budget")

    @property
    def dead_letters(self) -> str:
        """Messages that are not events, keyed ``topic:partition:offset``."""
        return self._derived("dead-letters")
