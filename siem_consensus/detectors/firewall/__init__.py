"""Firewall detector: port scans, network sweeps, brute force, C2 beaconing and DGA-like DNS.

Streaming and vectorised (polars). Each batch is aggregated into partial rows keyed by
``(slot, source_ip, destination_ip, destination_port, network_transport)`` (a slot is one hop
of a window; see :mod:`._state`). Windows of ``window_s`` start every
``window_s / hops_per_window``. Once the state holds more than ``max_open_rows`` rows, every
window whose end is ``allowed_lateness_s`` behind the newest timestamp is evaluated
(:mod:`._rules`): its per-source statistics feed the population baseline, only the rows of
sources that fired are kept, and the slots no open window needs are dropped. Memory therefore
stays under about ``max_open_rows`` or the distinct (source, destination, port) keys of
``window_s + allowed_lateness_s`` of log time, whichever is larger, whatever the input size;
and inputs small enough never to close a window early are judged exactly in any time order.
:meth:`FirewallDetector.finish` chains the findings of adjacent or overlapping windows into one
incident each (:mod:`._incidents`, with the score formula in :mod:`._rules`).

Rows are handled as follows:

* a null timestamp puts the event in a single *untimed* window, evaluated at finish;
* a null ``source_ip`` cannot be attributed: the event is counted (``no_source_ip``) and ignored;
* actions in ``ignored_actions`` (connection teardown) are counted and ignored;
* events arriving for windows already evaluated (older than the allowed lateness when the
  state was full) are counted as ``late`` and ignored;
* DNS lookups (a ``dns_question``, or ``event_action`` ``dns-query``: a Zeek dns.log given next
  to the conn.log) are not connections: they go to the DGA tracker (:mod:`._dga`, counted as
  ``dns_lookups``), whose findings support a beacon of the same host or become ``dga``
  incidents (:mod:`._dga_incident`).

``Incident.stats`` keys (stable names, read by the analysts):

* ``events``, ``distinct_ports``, ``distinct_hosts``: over the incident's events (fan-out
  counts exclude allowed outbound targets, see :mod:`._rules`);
* ``ports`` (sorted, at most 100), ``sensitive_ports`` (sorted);
* ``deny_ratio``, ``duration_s``, ``rate_per_min`` (events per minute, over at least a minute),
  ``max_attempts_same_target`` (one host, port and transport);
* ``internal_source`` (bool), ``windows`` (evaluation windows that fired, chained);
* ``beacon_cv``, ``beacon_interval_s``: inter-arrival statistics for brute force and beaconing,
  None for scans and sweeps;
* ``target``: ``{destination_ip, destination_port, transport}`` for brute force and beaconing,
  else None;
* ``population``: ``keys`` (every (source, window) of the input), ``events_mean/std``,
  ``ports_mean/std``, ``hosts_mean/std`` and ``port_popularity`` for the incident's ports;
* ``dga``: on a beacon, the DGA statistics below of the same host's DNS (supporting evidence),
  absent when there are none.

``internet_scan`` incidents (the long horizon: external sources slowly probing one host over a
day) also carry ``sources`` (how many scanned it), ``max_ports_per_source``,
``exposed_sensitive_ports`` (sensitive ports some probe was not refused on, sorted) and
``horizon`` (``long``).

``dga`` incidents have their own statistics, over one client's lookups in one window:
``lookups``, ``failed_lookups`` (NXDOMAIN), ``failed_domains`` (distinct registrable domains
among them), ``nxdomain_ratio``, ``lookups_per_domain`` (failed lookups per failed domain),
``tlds``, ``domains_per_tld``, ``top_tld_share``, ``algorithmic_share`` (share of failed
domains whose label looks generated), the label means ``label_length_mean``,
``label_length_std``, ``entropy_mean``, ``digit_ratio_mean``, ``rare_letter_ratio_mean``,
``consonant_run_mean``, and ``duration_s``, ``internal_source``, ``windows`` (1),
``target`` (None) and ``population`` (``keys``: every DNS client window of the input,
``failed_domains_mean``, ``failed_domains_std``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import polars as pl

from ...errors import UsageError
from ...models import Incident
from ..base import Detector, register
from ._background import INTERNET_SCAN, combine
from ._config import FirewallThresholds
from ._dga import DgaTracker, dns_rows
from ._dga_incident import DGA, attach_dga
from ._horizon import LongHorizon
from ._incidents import build_incidents
from ._rules import TARGET_KINDS, Population, candidates, tag_fanout
from ._state import (
    KEY,
    SlotStore,
    actions_in,
    batch_partial,
    explode_windows,
    merge_partials,
    summarize,
)

__all__ = ["FirewallDetector", "FirewallThresholds"]


@register
class FirewallDetector(Detector):
    """Detect scans, sweeps, brute force and beaconing in firewall/connection events.

    Args:
        thresholds: Detection thresholds; the book's starting values when None.

    Attributes:
        counters: ``events`` seen, and those not used: ``ignored_actions``, ``no_source_ip``,
            ``late``; for DNS lookups (once there are some) ``dns_lookups``, ``dns_late`` and
            ``dga_domains_uncounted``.

    A detector reads one input: create a new one for the next.
    """

    name: ClassVar[str] = "firewall"
    description: ClassVar[str] = (
        "Port scans, network sweeps, brute force and C2 beaconing per source and time window."
    )

    def __init__(self, thresholds: FirewallThresholds | None = None) -> None:
        self.thresholds = thresholds or FirewallThresholds()
        self.counters: dict[str, int] = dict.fromkeys(
            ("events", "ignored_actions", "no_source_ip", "late"), 0
        )
        self._store = SlotStore()
        self._findings: list[pl.DataFrame] = []
        self._population = Population()
        self._watermark: int | None = None
        self._evaluated: int | None = None
        self._incidents: list[Incident] | None = None
        self._horizon = (
            LongHorizon(self.thresholds, self.counters)
            if self.thresholds.long_horizon_s is not None
            else None
        )
        self._dga = DgaTracker(self.thresholds, self.counters)

    @property
    def population(self) -> dict[str, Any]:
        """Baseline over every (source, window) seen so far (complete after :meth:`finish`)."""
        return self._population.summary()

    def update(self, batch: pl.DataFrame) -> None:
        """Fold one event batch (EVENT_SCHEMA columns plus ``source``) into the state."""
        if self._incidents is not None:
            raise UsageError("this FirewallDetector is finished; create a new one per input")
        if batch.is_empty():
            return
        self.counters["events"] += batch.height
        batch = self._lookups(batch)
        if batch.is_empty():
            return
        cfg = self.thresholds
        part = batch_partial(
            batch, cfg.hop_us, cfg.deny_actions, cfg.ignored_actions, cfg.unanswered_actions
        )
        self.counters["ignored_actions"] += batch.height - int(part["n"].sum())
        part = self._drop_unusable(part)
        self._advance(part["t_last"].dt.epoch("us").max())
        self._store.add(part)
        if self._horizon is not None:
            self._horizon.add(part)
            if self._watermark is not None:
                self._horizon.close(self._watermark)
        self._flush(final=False)

    def _lookups(self, batch: pl.DataFrame) -> pl.DataFrame:
        """Hand the DNS lookups to the DGA tracker; the connection rows are returned."""
        is_dns = dns_rows()
        lookups = batch.filter(is_dns)
        if lookups.is_empty():
            return batch
        self._dga.add(lookups)
        self._advance(lookups["timestamp"].dt.epoch("us").max())
        if self._watermark is not None:
            self._dga.close(self._watermark)
        return batch.filter(~is_dns)

    def _advance(self, newest: object) -> None:
        if isinstance(newest, int):
            self._watermark = max(newest, self._watermark or newest)

    def _drop_unusable(self, part: pl.DataFrame) -> pl.DataFrame:
        no_source = pl.col("source_ip").is_null()
        late = pl.col("slot") <= self._evaluated if self._evaluated is not None else pl.lit(False)
        late = late.fill_null(False)
        counts = part.select(
            pl.col("n").filter(no_source).sum().alias("no_source_ip"),
            pl.col("n").filter(~no_source & late).sum().alias("late"),
        ).row(0, named=True)
        for key, value in counts.items():
            self.counters[key] += int(value or 0)
        return part.filter(~no_source & ~late)

    def _flush(self, *, final: bool) -> None:
        cfg = self.thresholds
        hops = cfg.hops_per_window
        upto: int | None = None
        if not final:
            if self._watermark is None or self._store.rows <= cfg.max_open_rows:
                return
            upto = (self._watermark - cfg.lateness_us) // cfg.hop_us - hops
            if self._evaluated is not None and upto <= self._evaluated:
                return
        first = None if self._evaluated is None else self._evaluated + 1
        state = self._store.timed(first, None if upto is None else upto + hops - 1)
        frames = [] if state is None else [explode_windows(state, hops, self._evaluated, upto)]
        untimed = self._store.untimed() if final else None
        if untimed is not None:
            frames.append(untimed.with_columns(pl.lit(None, pl.Int64).alias("window")))
        rows = pl.concat(frames, how="vertical") if frames else None
        if rows is not None and not rows.is_empty():
            self._evaluate(rows, merged=hops == 1)
        if upto is not None:
            self._store.drop_through(upto)
            self._evaluated = upto

    def _evaluate(self, rows: pl.DataFrame, *, merged: bool) -> None:
        cfg = self.thresholds
        targets = rows.drop("slot") if merged else merge_partials(rows, ("window", *KEY))
        summary = summarize(targets, ("window", "source_ip"))
        whole = pl.col("window").is_null() | (pl.col("window") % cfg.hops_per_window == 0)
        self._population.add(summary.filter(whole), targets.filter(whole))
        found = candidates(_fan_out(summary, targets, cfg), targets, cfg)
        if not found.is_empty():
            self._findings.append(_retain(rows, found))

    def finish(self) -> list[Incident]:
        """Evaluate every open window and return the incidents, most severe first."""
        if self._incidents is None:
            self._flush(final=True)
            self._store.clear()
            findings = pl.concat(self._findings) if self._findings else pl.DataFrame()
            self._findings = []
            fast = build_incidents(findings, self.thresholds, self._population)
            if self._horizon is not None:
                fast = combine(fast, self._horizon.finish(self._population), self.thresholds)
            self._incidents = attach_dga(fast, self._dga.finish(), self.thresholds)
        return list(self._incidents)

    def assign(self, batch: pl.DataFrame, incidents: Sequence[Incident]) -> pl.DataFrame:
        """Rows ``event_id, incident_id`` for the events of ``batch`` inside ``incidents``.

        An event belongs to an incident when it has the incident's source address and a
        timestamp in ``[first_seen, last_seen]`` (a null timestamp for untimed incidents), and,
        for brute force and beaconing, the incident's destination, port and transport.
        """
        spec = _incident_spec(incidents)
        empty = pl.DataFrame(schema={"event_id": pl.String, "incident_id": pl.String})
        if spec.is_empty() or batch.is_empty():
            return empty
        ignored = actions_in(batch, self.thresholds.ignored_actions)
        failed_lookup = dns_rows() & (pl.col("event_code").str.to_uppercase() == "NXDOMAIN")
        ts = pl.col("timestamp")
        in_time = ts.is_between(pl.col("first_seen"), pl.col("last_seen")).fill_null(
            ts.is_null() & pl.col("first_seen").is_null()
        )
        on_target = pl.lit(True)
        for column, target in zip(KEY[1:], ("t_dst", "t_dport", "t_transport"), strict=True):
            on_target &= pl.col(target).is_null() | pl.col(column).eq_missing(pl.col(target))
        return (
            batch.lazy()
            .filter(pl.col("event_action").is_null() | ~pl.col("event_action").is_in(ignored))
            .join(spec.lazy(), on="source_ip", how="inner")
            .filter(in_time & on_target)
            .filter(pl.when(pl.col("t_dns")).then(failed_lookup).otherwise(~dns_rows()))
            .select(pl.format("{}:{}", "source", "line").alias("event_id"), pl.col("incident_id"))
            .collect(engine="in-memory")
        )


def _fan_out(summary: pl.DataFrame, targets: pl.DataFrame, cfg: FirewallThresholds) -> pl.DataFrame:
    """Summaries of the sources that may fire a scan or sweep rule, fan-out recounted.

    Recounting without allowed outbound targets only shrinks the fan-out, so sources under
    both fan-out thresholds before it cannot fire and are not recounted.
    """
    window_source = ["window", "source_ip"]
    maybe = summary.filter(
        (pl.col("events") >= cfg.min_events)
        & ((pl.col("ports") > cfg.port_scan_ports) | (pl.col("hosts") > cfg.sweep_hosts))
    )
    if maybe.is_empty() or cfg.count_allowed_outbound:
        return maybe
    mine = targets.join(maybe.select(window_source), on=window_source, nulls_equal=True)
    return summarize(tag_fanout(mine, cfg), window_source)


def _retain(rows: pl.DataFrame, found: pl.DataFrame) -> pl.DataFrame:
    """The slot rows of every finding, tagged with the finding's kind and target."""
    joined = found.join(rows, on=["window", "source_ip"], nulls_equal=True)
    target_kind = pl.col("kind").is_in(sorted(TARGET_KINDS))
    on_target = (
        pl.col("destination_ip").eq_missing(pl.col("t_dst"))
        & pl.col("destination_port").eq_missing(pl.col("t_dport"))
        & pl.col("network_transport").eq_missing(pl.col("t_transport"))
    )
    return joined.filter(~target_kind | on_target)


def _incident_spec(incidents: Sequence[Incident]) -> pl.DataFrame:
    rows = []
    for incident in incidents:
        if incident.detector != "firewall" or not incident.entities.source_ips:
            continue
        target = incident.stats.get("target") or {}
        grouped = incident.kind == INTERNET_SCAN  # many sources, one target host
        for source in incident.entities.source_ips if grouped else incident.entities.source_ips[:1]:
            rows.append(
                {
                    "incident_id": incident.id,
                    "source_ip": source,
                    "first_seen": incident.first_seen,
                    "last_seen": incident.last_seen,
                    "t_dst": incident.entities.destination_ips[0]
                    if grouped and len(incident.entities.destination_ips) == 1
                    else target.get("destination_ip"),
                    "t_dport": target.get("destination_port"),
                    "t_transport": target.get("transport"),
                    "t_dns": incident.kind == DGA,
                }
            )
    schema: dict[str, pl.DataType] = {
        "incident_id": pl.String(),
        "source_ip": pl.String(),
        "first_seen": pl.Datetime("us", "UTC"),
        "last_seen": pl.Datetime("us", "UTC"),
        "t_dst": pl.String(),
        "t_dport": pl.Int32(),
        "t_transport": pl.String(),
        "t_dns": pl.Boolean(),
    }
    return pl.DataFrame(rows, schema=schema)
