"""The settings of one stream worker (:class:`StreamSettings`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ._decide import DecideSettings

__all__ = ["StreamSettings"]


@dataclass
class StreamSettings:
    """Everything one worker needs.

    Attributes:
        family: ``firewall``, ``ids`` or ``insider``.
        bootstrap: Kafka ``host:port`` list.
        topic: The input topic (raw records).
        group: Consumer group: workers with the same group share the work.
        input_format: Parser name; detected per message when None (slower).
        decide: How decisions are made (analysts, policy, sinks).
        state_dir: Local RocksDB directory (a fresh temporary one when None: state is
            recovered from the changelog topics).
        kafka: Extra librdkafka settings (security, timeouts) for every client.
        replication: Replication factor of the topics the job creates.
        commit_interval: Seconds between transaction commits.
        guarantee: ``exactly-once`` (Kafka transactions: needs a broker that aborts the open
            transactions of dead producers, as Kafka does) or ``at-least-once`` (a dead
            worker's last uncommitted messages are processed again: sessions drop repeated
            events by id and decisions are keyed by incident id, so the outcome is the same).
        lateness_s: How far (log time) an event may trail the newest event of its events
            partition and still count; the family's session gap when None. Input partitions
            read at different speeds trail each other: a back-fill of an unkeyed topic needs
            about its whole time span (see docs/scale.md).
        decide_at: ``session``: decide each candidate when its session closes, with the
            population of every session closed so far (a live stream); ``end-of-input``: wait
            until every events partition has closed at end of input, so the population is the
            whole input's and the decisions are the batch command's (back-fills).
        population: Publish and attach the firewall population (what the baseline analyst
            reads); None: when the analysts are the default ones or name ``baseline``.
        budget: The job's LLM budget, ``(limit, "tokens" | "usd")``, shared by every worker
            of the group through the ledger topic (:mod:`._ledger`); give every worker the
            same. None: ``decide.llm_settings`` as given (a budget there is per worker).
        budget_block: How much a worker claims from the ledger at a time; a tenth of the
            budget when None.
    """

    family: str
    bootstrap: str
    topic: str
    group: str | None = None
    input_format: str | None = None
    decide: DecideSettings = field(default_factory=DecideSettings)
    state_dir: str | None = None
    kafka: Mapping[str, Any] = field(default_factory=dict)
    replication: int = 1
    commit_interval: float = 1.0
    lateness_s: int | None = None
    guarantee: Literal["exactly-once", "at-least-once"] = "exactly-once"
    decide_at: Literal["session", "end-of-input"] = "session"
    population: bool | None = None
    budget: tuple[float, Literal["tokens", "usd"]] | None = None
    budget_block: float | None = None

    @property
    def measures_population(self) -> bool:
        """Whether sessions publish their population share (see ``population``)."""
        if self.population is not None:
            return self.population
        analysts = self.decide.analysts
        return analysts is None or "baseline" in [a.strip() for a in analysts.split(",")]

    @property
    def group_id(self) -> str:
        """The consumer group, ``siem-consensus-<family>-<topic>`` by default."""
        return self.group or f"siem-consensus-{self.family}-{self.topic}"
