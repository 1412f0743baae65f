"""DGA-like DNS per client host: many distinct failed lookups of generated-looking domains.

DNS lookups (rows with ``dns_question`` or ``event_action`` ``dns-query``, e.g. a Zeek dns.log)
are kept out of the connection rules and counted here, per client (``source_ip``) and tumbling
window of ``window_s``. A lookup to NetBIOS, mDNS or LLMNR (ports 137, 5353, 5355) is a local
name broadcast, not DNS resolution, and is not counted. Only ``NXDOMAIN`` replies are failures:
a SERVFAIL or a missing reply says the resolver is down, which makes every name fail.

A client window is a finding when, over the registrable domains (:mod:`._dga_names`) answered
NXDOMAIN, all of these hold:

* at least ``dga_min_failed_domains`` distinct failed domains;
* at most ``dga_max_lookups_per_domain`` failed lookups per failed domain;
* at least ``dga_min_domains_per_tld`` failed domains per distinct TLD;
* at least ``dga_min_algorithmic_share`` of them algorithmic-looking.

Every evaluated client window, found or not, adds its count of failed domains to a population
baseline (``population``: ``keys``, ``failed_domains_mean``, ``failed_domains_std``) that the
findings carry for the baseline analyst. Sources in ``dga_ignored_sources`` (resolvers that
forward for other hosts, mail servers looking up forged sender domains) are not counted.

State per client window: counters, and the failed domains with their lookup counts up to
``dga_max_domains`` (further ones are only counted) plus up to ``evidence_limit`` evidence
events. A window is evaluated and dropped once the newest timestamp is a window plus the
allowed lateness past its end, so memory is bounded by the clients of the open windows;
lookups arriving later for a window already evaluated are counted as ``dns_late`` and not used.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import polars as pl

from ...models import Event
from ._config import FirewallThresholds
from ._dga_names import looks_algorithmic, registrable, shape

__all__ = ["DgaFinding", "DgaTracker", "dns_rows"]

_LOCAL_NAME_PORTS: Final = (137, 5353, 5355)
_COLUMNS: Final = (
    "source",
    "line",
    "timestamp",
    "source_ip",
    "source_port",
    "destination_ip",
    "destination_port",
    "network_transport",
    "event_code",
    "dns_question",
    "message",
)


def dns_rows() -> pl.Expr:
    """True for the DNS lookup rows of an event batch."""
    return pl.col("dns_question").is_not_null() | (pl.col("event_action") == "dns-query").fill_null(
        False
    )


@dataclass
class _Client:
    lookups: int = 0
    failed_lookups: int = 0
    uncounted: int = 0
    failed: dict[str, tuple[str, int]] = field(default_factory=dict)  # domain -> (label, n)
    first: datetime | None = None
    last: datetime | None = None
    evidence: list[Event] = field(default_factory=list)


@dataclass(frozen=True)
class DgaFinding:
    """One client window that looks like a DGA at work.

    Attributes:
        source_ip: The client.
        first_seen: First failed lookup (None when the lookups had no timestamps).
        last_seen: Last failed lookup.
        stats: The documented DGA statistics (see the detector's module docstring).
        evidence: Sampled failed lookups.
    """

    source_ip: str
    first_seen: datetime | None
    last_seen: datetime | None
    stats: dict[str, Any]
    evidence: tuple[Event, ...]


class DgaTracker:
    """Bounded per-client, per-window state of DNS lookups.

    Args:
        cfg: The firewall thresholds (``window_s``, lateness, the ``dga_*`` fields).
        counters: The detector's counters; ``dns_lookups``, ``dns_late`` (lookups of a
            window already evaluated, not used) and ``dga_domains_uncounted`` are added to them
            once there is one to count.
    """

    def __init__(self, cfg: FirewallThresholds, counters: dict[str, int]) -> None:
        self.cfg = cfg
        self.counters = counters
        self._clients: dict[tuple[int | None, str], _Client] = {}
        self.findings: list[DgaFinding] = []
        self._keys, self._sum, self._squares = 0, 0.0, 0.0
        self._closed: int | None = None  # the newest window evaluated and dropped

    def add(self, rows: pl.DataFrame) -> None:
        """Count the DNS rows of one batch (lookups per client window in polars; each
        NXDOMAIN row in Python, they are the few)."""
        span = self.cfg.window_s * 1_000_000
        usable = rows.filter(
            pl.col("source_ip").is_not_null()
            & ~pl.col("destination_port").is_in(_LOCAL_NAME_PORTS).fill_null(False)
        ).with_columns((pl.col("timestamp").dt.epoch("us") // span).alias("_window"))
        if self._closed is not None:
            late = pl.col("_window") <= self._closed
            self._count("dns_late", usable.filter(late).height)
            usable = usable.filter(late.not_() | pl.col("_window").is_null())
        if self.cfg.dga_ignored_sources:
            sources = usable["source_ip"].unique().to_list()
            ignored = [source for source in sources if self.cfg.dga_ignores(source)]
            usable = usable.filter(~pl.col("source_ip").is_in(ignored))
        counts = usable.group_by("_window", "source_ip").len()
        for window, source, n in counts.iter_rows():
            self._clients.setdefault((window, source), _Client()).lookups += n
        self._count("dns_lookups", usable.height)
        failed = usable.filter(pl.col("event_code").str.to_uppercase() == "NXDOMAIN")
        for row in failed.select(*_COLUMNS, "_window").iter_rows(named=True):
            client = self._clients[(row["_window"], row["source_ip"])]
            self._failed(client, row, row["timestamp"])

    def _failed(self, client: _Client, row: dict[str, Any], when: datetime | None) -> None:
        found = registrable(row["dns_question"] or "")
        if found is None:
            return
        domain, label = found
        client.failed_lookups += 1
        if domain in client.failed:
            client.failed[domain] = (label, client.failed[domain][1] + 1)
        elif len(client.failed) < self.cfg.dga_max_domains:
            client.failed[domain] = (label, 1)
        else:
            client.uncounted += 1
            self._count("dga_domains_uncounted", 1)
        if when is not None:
            client.first = when if client.first is None else min(client.first, when)
            client.last = when if client.last is None else max(client.last, when)
        if len(client.evidence) < self.cfg.evidence_limit:
            client.evidence.append(_event(row))

    def close(self, watermark_us: int) -> None:
        """Evaluate and drop the windows the allowed lateness has passed."""
        span = self.cfg.window_s * 1_000_000
        for key in [k for k in self._clients if k[0] is not None]:
            window = key[0]
            assert window is not None
            if (window + 1) * span + self.cfg.lateness_us <= watermark_us:
                self._evaluate(key)
                self._closed = max(window, self._closed if self._closed is not None else window)

    def _count(self, name: str, n: int) -> None:
        if n:
            self.counters[name] = self.counters.get(name, 0) + n

    def finish(self) -> list[DgaFinding]:
        """Evaluate every open window; the findings, in time order."""
        for key in list(self._clients):
            self._evaluate(key)
        population = self.population()
        for finding in self.findings:
            finding.stats["population"] = population
        return sorted(self.findings, key=_finding_order)

    def population(self) -> dict[str, Any]:
        """Mean and standard deviation of failed domains over every client window evaluated."""
        mean = self._sum / self._keys if self._keys else 0.0
        var = self._squares / self._keys - mean * mean if self._keys else 0.0
        return {
            "keys": self._keys,
            "failed_domains_mean": round(mean, 4),
            "failed_domains_std": round(max(var, 0.0) ** 0.5, 4),
        }

    def _evaluate(self, key: tuple[int | None, str]) -> None:
        client = self._clients.pop(key)
        stats = dga_stats(client.failed, client.lookups, client.failed_lookups, client.uncounted)
        self._keys += 1
        self._sum += stats["failed_domains"]
        self._squares += stats["failed_domains"] ** 2
        if is_dga(stats, self.cfg):
            first, last = client.first, client.last
            span = (last - first).total_seconds() if first and last else 0.0
            stats["duration_s"] = round(span, 3)
            stats["internal_source"] = self.cfg.is_internal(key[1])
            self.findings.append(
                DgaFinding(key[1], client.first, client.last, stats, tuple(client.evidence))
            )


def dga_stats(
    failed: dict[str, tuple[str, int]], lookups: int, failed_lookups: int, uncounted: int = 0
) -> dict[str, Any]:
    """The DGA statistics of one client window (names as in the detector's docstring)."""
    shapes = [shape(label) for label, _ in failed.values()]
    domains = len(failed) + uncounted
    tlds = Counter(domain.rsplit(".", 1)[-1] for domain in failed)
    top = tlds.most_common(1)[0][1] if tlds else 0

    def mean(values: list[float]) -> float | None:
        return round(statistics.fmean(values), 4) if values else None

    return {
        "lookups": lookups,
        "failed_lookups": failed_lookups,
        "failed_domains": domains,
        "nxdomain_ratio": round(failed_lookups / lookups, 4) if lookups else 0.0,
        "lookups_per_domain": round(failed_lookups / domains, 4) if domains else None,
        "tlds": len(tlds),
        "domains_per_tld": round(len(failed) / len(tlds), 4) if tlds else None,
        "top_tld_share": round(top / len(failed), 4) if failed else None,
        "algorithmic_share": mean([float(looks_algorithmic(s)) for s in shapes]),
        "label_length_mean": mean([float(s.length) for s in shapes]),
        "label_length_std": round(statistics.pstdev([s.length for s in shapes]), 4)
        if shapes
        else None,
        "entropy_mean": mean([s.entropy for s in shapes]),
        "digit_ratio_mean": mean([s.digit_ratio for s in shapes]),
        "rare_letter_ratio_mean": mean([s.rare_ratio for s in shapes]),
        "consonant_run_mean": mean([float(s.consonant_run) for s in shapes]),
    }


def is_dga(stats: dict[str, Any], cfg: FirewallThresholds) -> bool:
    """Whether one client window's statistics pass the four DGA tests."""
    return bool(
        stats["failed_domains"] >= cfg.dga_min_failed_domains
        and stats["lookups_per_domain"] <= cfg.dga_max_lookups_per_domain
        and stats["domains_per_tld"] >= cfg.dga_min_domains_per_tld
        and stats["algorithmic_share"] >= cfg.dga_min_algorithmic_share
    )


def _event(row: dict[str, Any]) -> Event:
    return Event.model_validate(
        {
            "event_id": f"{row['source']}:{row['line']}",
            "@timestamp": row["timestamp"],
            "event.action": "dns-query",
            "event.code": row["event_code"],
            "event.outcome": "failure",
            "source.ip": row["source_ip"],
            "source.port": row["source_port"],
            "destination.ip": row["destination_ip"],
            "destination.port": row["destination_port"],
            "network.transport": row["network_transport"],
            "dns.question.name": row["dns_question"],
            "message": row["message"],
        }
    )


def _finding_order(finding: DgaFinding) -> tuple[float, str]:
    first = finding.first_seen
    return (first.timestamp() if first else 0.0, finding.source_ip)
