"""Authentication detector: brute force, password spraying, distributed brute force, success
after failures and invalid-user enumeration in login events (sshd, Zeek ssh.log, ECS/Windows).

Streaming and vectorised (polars). Each batch is aggregated into rows keyed by
``(window, source_ip, user_name, target)`` (:mod:`._state`); windows are tumbling, of
``window_s``. Once more than ``max_open_rows`` rows are held, the windows that ended
``allowed_lateness_s`` behind the newest timestamp are evaluated (:mod:`._rules`) and dropped,
so memory stays bounded by the distinct keys of about two windows. Internet background
findings of one host and window are pooled into one ``background_guessing`` finding
(:mod:`._pool`); every finding becomes one incident (:mod:`._incidents`) when its window is
evaluated, so no state row outlives its window; :meth:`AuthDetector.finish` adds the complete
population baseline and sorts them, most severe first.

Rows are handled as follows: events that are neither attempts (an outcome of success or
failure) nor invalid-user notices are counted (``not_attempts``) and ignored; events whose
``event_category`` is set but is not ``authentication`` are ignored the same way; attempts
without a source address are counted (``no_source_ip``) and ignored; events for windows
already evaluated are counted as ``late``.

``Incident.stats`` keys: ``events``, ``failures``, ``successes``, ``invalid_events``,
``distinct_sources``/``accounts``/``hosts``, ``sources``, ``accounts``, ``hosts`` (at most
``max_entities`` each), ``specific_accounts`` (existing, not common), ``internal_sources``,
``internal_source``, ``targeted``, ``background``, ``duration_s``, ``rate_per_hour``,
``max_failures_one_source``, ``rule`` (``observed``, ``threshold``), ``window_start``,
``population`` (see :class:`._rules.Population`); success incidents add ``via`` (``source`` or
``account``), ``source_ip``, ``user_name`` and ``target``; ``background_guessing`` adds
``pooled`` (how many findings of each kind it replaced).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import polars as pl

from ...errors import UsageError
from ...models import Incident
from ..base import Detector, register
from ._config import AuthThresholds
from ._incidents import build_incident, incident_order
from ._pool import pool_background
from ._rules import Population, evaluate
from ._state import StateStore, batch_rows

__all__ = ["AuthDetector", "AuthThresholds"]

_BY_ACCOUNT = frozenset(
    {"account_brute_force", "distributed_brute_force", "success_after_failures"}
)


@register
class AuthDetector(Detector):
    """Detect password guessing and its success in authentication events.

    Args:
        thresholds: Detection thresholds; the documented defaults when None.

    Attributes:
        counters: ``events`` seen and those not used: ``not_attempts``, ``no_source_ip``,
            ``late``.

    A detector reads one input: create a new one for the next.
    """

    name: ClassVar[str] = "auth"
    description: ClassVar[str] = (
        "Brute force, password spraying, distributed guessing, success after failures and "
        "invalid-user enumeration per window."
    )

    def __init__(self, thresholds: AuthThresholds | None = None) -> None:
        self.thresholds = thresholds or AuthThresholds()
        self.counters: dict[str, int] = dict.fromkeys(
            ("events", "not_attempts", "no_source_ip", "late"), 0
        )
        self._store = StateStore()
        self._built: list[Incident] = []
        self._population = Population()
        self._watermark: int | None = None
        self._evaluated: int | None = None
        self._incidents: list[Incident] | None = None

    @property
    def population(self) -> dict[str, Any]:
        """Baseline over the windows evaluated so far (complete after :meth:`finish`)."""
        return self._population.summary()

    def update(self, batch: pl.DataFrame) -> None:
        """Fold one event batch (EVENT_SCHEMA columns plus ``source``) into the state."""
        if self._incidents is not None:
            raise UsageError("this AuthDetector is finished; create a new one per input")
        if batch.is_empty():
            return
        rows, relevant = batch_rows(batch, self.thresholds)
        self.counters["events"] += batch.height
        self.counters["not_attempts"] += batch.height - relevant
        rows = self._drop_unusable(rows)
        newest = rows["t_last"].max()
        if newest is not None:
            stamp = int(pl.Series([newest]).dt.epoch("us")[0])
            self._watermark = max(stamp, self._watermark or stamp)
        self._store.add(rows)
        self._flush(final=False)

    def _drop_unusable(self, rows: pl.DataFrame) -> pl.DataFrame:
        no_source = pl.col("source_ip").is_null()
        late = (pl.col("window") <= self._evaluated) if self._evaluated is not None else None
        late = pl.lit(False) if late is None else late.fill_null(False)
        counts = rows.select(
            pl.col("n").filter(no_source).sum().alias("no_source_ip"),
            pl.col("n").filter(~no_source & late).sum().alias("late"),
        ).row(0, named=True)
        for key, value in counts.items():
            self.counters[key] += int(value or 0)
        return rows.filter(~no_source & ~late)

    def _flush(self, *, final: bool) -> None:
        cfg = self.thresholds
        if final:
            self._evaluate(self._store.take(None))
            return
        if self._watermark is None or self._store.rows <= cfg.max_open_rows:
            return
        upto = (self._watermark - cfg.lateness_us) // cfg.window_us - 1
        if self._evaluated is not None and upto <= self._evaluated:
            return
        self._evaluate(self._store.take(upto))
        self._evaluated = upto

    def _evaluate(self, rows: pl.DataFrame) -> None:
        self._population.add(rows)
        found = evaluate(rows, self.thresholds)
        if self.thresholds.pool_background:
            found = pool_background(found, self.thresholds)
        # Described as soon as their window closes, so that no state row outlives its window;
        # the population baseline is filled in at finish, when it is complete.
        self._built.extend(build_incident(f, self.thresholds, self._population) for f in found)

    def finish(self) -> list[Incident]:
        """Evaluate every open window and return the incidents, most severe first."""
        if self._incidents is None:
            self._flush(final=True)
            population = self._population.summary()
            incidents = [
                i.model_copy(update={"stats": {**i.stats, "population": population}})
                for i in self._built
            ]
            self._built = []
            self._incidents = sorted(incidents, key=incident_order)
        return list(self._incidents)

    def assign(self, batch: pl.DataFrame, incidents: Sequence[Incident]) -> pl.DataFrame:
        """Rows ``event_id, incident_id`` for the events of ``batch`` inside ``incidents``.

        An event belongs to an incident when its source address is one the incident lists, its
        target (``host_name``, else ``destination_ip``) is one of the incident's hosts, its
        timestamp lies in ``[first_seen, last_seen]`` (a null one for untimed incidents) and,
        for the kinds about accounts (brute force, distributed brute force, success after
        failures), its account is one the incident lists. Incidents list at most
        ``max_entities`` sources, accounts and hosts (the busiest), so membership covers those.
        """
        empty = pl.DataFrame(schema={"event_id": pl.String, "incident_id": pl.String})
        spec = _spec(incidents)
        if spec.is_empty() or batch.is_empty():
            return empty
        ts = pl.col("timestamp")
        in_time = ts.is_between(pl.col("first_seen"), pl.col("last_seen")).fill_null(
            ts.is_null() & pl.col("first_seen").is_null()
        )
        users, hosts = pl.col("users"), pl.col("hosts")
        user_ok = users.list.len().eq(0) | users.list.contains(pl.col("user_name")).fill_null(False)
        target = pl.coalesce("host_name", "destination_ip")
        host_ok = hosts.list.len().eq(0) | hosts.list.contains(target).fill_null(False)
        return (
            batch.lazy()
            .join(spec.lazy(), on="source_ip", how="inner")
            .filter(in_time & user_ok & host_ok)
            .select(pl.format("{}:{}", "source", "line").alias("event_id"), "incident_id")
            .unique(maintain_order=True)
            .collect(engine="in-memory")
        )


def _spec(incidents: Sequence[Incident]) -> pl.DataFrame:
    rows = [
        {
            "incident_id": incident.id,
            "source_ip": source,
            "users": list(incident.entities.users) if incident.kind in _BY_ACCOUNT else [],
            "hosts": list(incident.entities.hosts),
            "first_seen": incident.first_seen,
            "last_seen": incident.last_seen,
        }
        for incident in incidents
        if incident.detector == "auth"
        for source in incident.entities.source_ips
    ]
    schema: dict[str, pl.DataType] = {
        "incident_id": pl.String(),
        "source_ip": pl.String(),
        "users": pl.List(pl.String()),
        "hosts": pl.List(pl.String()),
        "first_seen": pl.Datetime("us", "UTC"),
        "last_seen": pl.Datetime("us", "UTC"),
    }
    return pl.DataFrame(rows, schema=schema)
