"""Detection rules, population baseline and score of the firewall detector.

Rules, per source and window (defaults in :class:`FirewallThresholds`):

* ``port_scan``: at least ``min_events`` events and either more than ``port_scan_ports``
  distinct destination ports on at most ``port_scan_max_hosts`` hosts (the book's vertical
  scan), more than ``port_scan_ports`` ports *per host* on a few hosts (nmap against a handful
  of servers: 1,008 ports on 11 hosts in CIC-IDS2017), or more than ``sweep_max_ports`` ports
  on more than ``sweep_hosts`` hosts (a block scan: many services on many hosts).
* ``network_sweep``: at least ``min_events`` events, more than ``sweep_hosts`` hosts on at most
  ``sweep_max_ports`` ports.
* ``brute_force``: more than ``brute_force_attempts`` attempts on one host, auth port and
  transport.
* ``beaconing``: one (destination, port, transport) contacted at least
  ``beacon_min_connections`` times, mostly not refused (attempts nobody answered, the
  ``unanswered_actions``, are not refusals: a bot keeps calling a C2 server that is down,
  as NjRAT does in the Stratosphere capture), mean interval of at least
  ``beacon_min_interval_s`` and coefficient of variation of the intervals below
  ``beacon_max_cv``; by default only internal sources talking to external destinations.

Fan-out (distinct ports and hosts) ignores *allowed outbound* targets, an internal source
reaching an external address with at most half the attempts denied, unless
``count_allowed_outbound`` is set: a workstation browsing reaches dozens of web servers an hour,
which is not a sweep. Refused outbound attempts and everything inbound or internal still count.

Score (0-1) = base + w_B B + w_S S + w_D D + w_R R, where

* B, breadth over the threshold: ``min(1, log10(observed / threshold))`` of hosts (sweep),
  ports or hosts, whichever is larger (scan), attempts (brute force), so ten times the
  threshold is full breadth; for beaconing the regularity ``1 - cv / beacon_max_cv``;
* S: scans and sweeps, ``min(1, sensitive ports hit / 3)``; brute force, 1 on a sensitive
  port else 0.5; beaconing, ``min(1, log10(connections / beacon_min_connections))``;
* D, duration: ``min(1, duration / long_activity_s)``;
* R: scans and sweeps, the deny ratio (probing refused ports); brute force and beaconing, the
  allowed ratio (attempts that reached the service, callbacks that got out);
* weights (base, w_B, w_S, w_D, w_R): (0.3, 0.3, 0.15, 0.1, 0.15) for scans, sweeps and brute
  force; (0.05, 0.3, 0.1, 0.1, 0.15) for beaconing, because periodic traffic is often a benign
  agent and a beacon alone should reach high only when everything lines up.

Severity is :meth:`Severity.from_score`. Scenario 1's scan (13 ports, 9 sensitive, all denied,
29 minutes) scores 0.68, high; a sweep barely over 20 hosts, half denied, stays medium.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ._config import FirewallThresholds

__all__ = [
    "KINDS",
    "Population",
    "TARGET",
    "TARGET_KINDS",
    "beacon_cv",
    "candidates",
    "internal_values",
    "score",
    "tag_fanout",
]

KINDS = ("port_scan", "network_sweep", "brute_force", "beaconing")
TARGET_KINDS = frozenset({"brute_force", "beaconing"})
"""Kinds about one (destination, port, transport) rather than the whole source."""

TARGET = ("t_dst", "t_dport", "t_transport")
_POP_COLS = ("events", "ports", "hosts")
_IPV4 = r"^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$"

_WEIGHTS = {
    "port_scan": (0.3, 0.3, 0.15, 0.1, 0.15),
    "network_sweep": (0.3, 0.3, 0.15, 0.1, 0.15),
    "brute_force": (0.3, 0.3, 0.15, 0.1, 0.15),
    "beaconing": (0.05, 0.3, 0.1, 0.1, 0.15),
}


def candidates(
    summary: pl.DataFrame, targets: pl.DataFrame, cfg: FirewallThresholds
) -> pl.DataFrame:
    """Rows ``window, source_ip, kind, t_dst, t_dport, t_transport`` for every rule that fires.

    ``summary`` needs only the sources that may fire a scan or sweep rule, with fan-out
    counted as documented above; ``targets`` must hold every target.
    """
    busy = summary.filter(pl.col("events") >= cfg.min_events)
    ports, hosts = pl.col("ports"), pl.col("hosts")
    vertical = (ports > cfg.port_scan_ports) & (
        (hosts <= cfg.port_scan_max_hosts) | (ports > hosts * cfg.port_scan_ports)
    )
    block = (hosts > cfg.sweep_hosts) & (ports > cfg.sweep_max_ports)
    scan = busy.filter(vertical | block)
    sweep = busy.filter((hosts > cfg.sweep_hosts) & (ports <= cfg.sweep_max_ports))
    brute = targets.filter(
        pl.col("destination_port").is_in(sorted(cfg.auth_ports))
        & (pl.col("n") > cfg.brute_force_attempts)
    )
    parts = [
        _per_source(scan, "port_scan"),
        _per_source(sweep, "network_sweep"),
        _per_target(brute, "brute_force"),
        _per_target(_beacons(targets, cfg), "beaconing"),
    ]
    return pl.concat(parts, how="vertical")


def internal_values(values: pl.Series, cfg: FirewallThresholds) -> pl.Series:
    """The distinct values of ``values`` that are addresses inside ``cfg.internal_networks``.

    IPv4 addresses are tested column-wise; anything else (IPv6) goes through :mod:`ipaddress`.
    """
    distinct = values.drop_nulls().unique()
    octets = distinct.str.extract_groups(_IPV4)
    number = pl.lit(0, pl.Int64)
    for index in range(4):
        part = pl.col("o").struct.field(str(index + 1)).cast(pl.Int64, strict=False)
        number = number * 256 + pl.when(part <= 255).then(part)
    frame = pl.DataFrame({"v": distinct, "o": octets}).with_columns(number.alias("num"))
    inside = pl.lit(False)
    for lo, hi in cfg.ipv4_ranges:
        inside = inside | pl.col("num").is_between(lo, hi)
    v4 = frame.filter(pl.col("num").is_not_null() & inside)["v"]
    other = [v for v in frame.filter(pl.col("num").is_null())["v"] if cfg.is_internal(v)]
    return pl.concat([v4, pl.Series("v", other, pl.String)])


def tag_fanout(targets: pl.DataFrame, cfg: FirewallThresholds) -> pl.DataFrame:
    """Add the boolean ``fanout`` column: False on allowed outbound targets (see above)."""
    if cfg.count_allowed_outbound or targets.is_empty():
        return targets.with_columns(pl.lit(True).alias("fanout"))
    inside = internal_values(pl.concat([targets["source_ip"], targets["destination_ip"]]), cfg)
    inside_list = inside.implode()
    outbound = pl.col("source_ip").is_in(inside_list) & ~pl.col("destination_ip").is_in(inside_list)
    allowed = pl.col("deny") * 2 <= pl.col("n")
    return targets.with_columns((~(outbound & allowed)).fill_null(True).alias("fanout"))


def _per_source(frame: pl.DataFrame, kind: str) -> pl.DataFrame:
    return frame.select(
        "window",
        "source_ip",
        pl.lit(kind).alias("kind"),
        pl.lit(None, pl.String).alias("t_dst"),
        pl.lit(None, pl.Int32).alias("t_dport"),
        pl.lit(None, pl.String).alias("t_transport"),
    )


def _per_target(frame: pl.DataFrame, kind: str) -> pl.DataFrame:
    return frame.select(
        "window",
        "source_ip",
        pl.lit(kind).alias("kind"),
        pl.col("destination_ip").alias("t_dst"),
        pl.col("destination_port").alias("t_dport"),
        pl.col("network_transport").alias("t_transport"),
    )


def beacon_cv(g_n: int, g_sum: int, g_sq: int) -> tuple[float, float] | None:
    """(coefficient of variation, mean interval in seconds) of the gaps, None without gaps."""
    if g_n < 1 or g_sum <= 0:
        return None
    mean = g_sum / g_n
    var = max(g_sq / g_n - mean * mean, 0.0)
    return math.sqrt(var) / mean, mean / 1000.0


def _beacons(targets: pl.DataFrame, cfg: FirewallThresholds) -> pl.DataFrame:
    mean = pl.col("g_sum") / pl.col("g_n")
    var = (pl.col("g_sq") / pl.col("g_n") - mean * mean).clip(lower_bound=0.0)
    found = targets.filter(
        (pl.col("n") >= cfg.beacon_min_connections)
        & (pl.col("g_n") >= cfg.beacon_min_connections - 1)
        & (pl.col("g_sum") > 0)
        & (pl.col("deny") - pl.col("silent") <= pl.col("n") * cfg.beacon_max_deny_ratio)
        & (mean >= cfg.beacon_min_interval_s * 1000.0)
        & (var.sqrt() / mean < cfg.beacon_max_cv)
    )
    if found.is_empty():
        return found
    inside = internal_values(pl.concat([found["source_ip"], found["destination_ip"]]), cfg)
    if cfg.beacon_internal_sources_only:
        found = found.filter(pl.col("source_ip").is_in(inside.implode()))
    if cfg.beacon_external_destinations_only:
        found = found.filter(~pl.col("destination_ip").is_in(inside.implode()))
    return found


def score(kind: str, stats: dict[str, Any], cfg: FirewallThresholds) -> float:
    """The documented 0-1 score of an incident from its ``stats``."""
    base, w_breadth, w_sensitive, w_duration, w_reach = _WEIGHTS[kind]
    breadth, sensitive, reach = _terms(kind, stats, cfg)
    duration = min(1.0, float(stats["duration_s"]) / cfg.long_activity_s)
    total = (
        base
        + w_breadth * breadth
        + w_sensitive * sensitive
        + w_duration * duration
        + w_reach * reach
    )
    return round(min(1.0, max(0.0, total)), 4)


def _terms(kind: str, stats: dict[str, Any], cfg: FirewallThresholds) -> tuple[float, ...]:
    """(B, S, R) of the score for one kind."""
    deny = float(stats["deny_ratio"])
    if kind == "beaconing":
        regularity = max(0.0, 1.0 - (stats["beacon_cv"] or 0.0) / cfg.beacon_max_cv)
        return regularity, _log_ratio(stats["events"], cfg.beacon_min_connections), 1.0 - deny
    if kind == "brute_force":
        attempts = _log_ratio(stats["max_attempts_same_target"], cfg.brute_force_attempts)
        return attempts, 1.0 if stats["sensitive_ports"] else 0.5, 1.0 - deny
    hosts = _log_ratio(stats["distinct_hosts"], cfg.sweep_hosts)
    if kind == "port_scan":
        hosts = max(hosts, _log_ratio(stats["distinct_ports"], cfg.port_scan_ports))
    return hosts, min(1.0, len(stats["sensitive_ports"]) / 3), deny


def _log_ratio(observed: float, threshold: float) -> float:
    if observed <= 0 or threshold <= 0:
        return 0.0
    return min(1.0, max(0.0, math.log10(observed / threshold)))


@dataclass
class Population:
    """Running baseline over every (source, window) of the input, in bounded memory.

    Ports and hosts count every target, allowed outbound ones included. Windows are counted
    once each: with overlapping windows only every ``hops``-th window
    (a partition of time) feeds the baseline. ``port_popularity`` counts, per port, the
    (source, window) keys that hit it, i.e. distinct sources per window summed over windows.
    """

    keys: int = 0
    sums: dict[str, float] = field(default_factory=lambda: dict.fromkeys(_POP_COLS, 0.0))
    squares: dict[str, float] = field(default_factory=lambda: dict.fromkeys(_POP_COLS, 0.0))
    port_popularity: dict[int, int] = field(default_factory=dict)

    def add(self, summary: pl.DataFrame, targets: pl.DataFrame) -> None:
        """Fold the per-source summaries (and their targets) of whole windows in."""
        self.keys += summary.height
        if summary.is_empty():
            return
        totals = summary.select(
            *(pl.col(c).cast(pl.Float64).sum().alias(c) for c in _POP_COLS),
            *(pl.col(c).cast(pl.Float64).pow(2).sum().alias(f"{c}_sq") for c in _POP_COLS),
        ).row(0, named=True)
        for col in _POP_COLS:
            self.sums[col] += totals[col]
            self.squares[col] += totals[f"{col}_sq"]
        hits = (
            targets.filter(pl.col("destination_port").is_not_null())
            .unique(["window", "source_ip", "destination_port"])
            .group_by("destination_port")
            .len()
        )
        for port, count in hits.iter_rows():
            self.port_popularity[port] = self.port_popularity.get(port, 0) + count

    def summary(self, ports: list[int] | None = None) -> dict[str, Any]:
        """Means and standard deviations; ``port_popularity`` for ``ports`` (all when None)."""
        out: dict[str, Any] = {"keys": self.keys}
        for col, name in zip(_POP_COLS, ("events", "ports", "hosts"), strict=True):
            mean = self.sums[col] / self.keys if self.keys else 0.0
            var = self.squares[col] / self.keys - mean * mean if self.keys else 0.0
            out[f"{name}_mean"] = round(mean, 4)
            out[f"{name}_std"] = round(math.sqrt(max(var, 0.0)), 4)
        chosen = sorted(self.port_popularity) if ports is None else ports
        out["port_popularity"] = {p: self.port_popularity.get(p, 0) for p in chosen}
        return out
