"""The settings of one stream worker (:class:`StreamSettings`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import ConfigError
from ._decide import DecideSettings
from ._families import check_span, get_family

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
        max_session_span_s: Log time after which an entity's session is cut (closed, decided)
            even if the entity never falls silent: sessions are cut at multiples of the span
            counted from the epoch (see :mod:`._families`). None: the family's default (a day
            for firewall and IDS, none for insider); 0: no maximum. Must be a multiple of
            the family's ``align_s``.
        timezone: IANA zone of time stamps written without one (UTC when None), as the batch
            commands' ``--timezone``.
        rate_limits: Requests per second each provider key (``openai``, ``anthropic``,
            ``local:<url>``) may receive from the *whole job*; each worker applies the limit
            divided by the live members of its consumer group (:mod:`._rate`). Give every
            worker the same.
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
    max_session_span_s: int | None = None
    timezone: str | None = None
    rate_limits: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from ..parsers._zone import check_zone

        check_zone(self.timezone, "timezone")
        timeout = self.decide.analyst_timeout
        if timeout is not None and not 0 < timeout < math.inf:
            raise ConfigError(f"analyst timeout {timeout}: give a positive number of seconds")
        check_span(get_family(self.family), self.max_session_span_s)
        for provider, rate in self.rate_limits.items():
            if not rate > 0:
                raise ConfigError(f"rate limit of {provider!r}: {rate} requests/s is not positive")

    @property
    def span_s(self) -> int | None:
        """The maximum session span in use (None: sessions end only by silence)."""
        return check_span(get_family(self.family), self.max_session_span_s)

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
