"""Many closed firewall sessions through one detector run: who may fire, and every share.

A fresh detector per closed session (:func:`._detect.detect_and_measure`) is exact and slow:
tens of milliseconds of fixed cost per session, and a back-fill closes tens of thousands of
sessions, most of them a few events of background sources that fire nothing. Two things
make one run over many sessions give the same answers, session by session:

* everything the firewall detector computes before building incidents is per
  ``(window, source)`` key (windows aligned to the epoch; the long horizon per
  ``(bucket, source)``), with the address itself as the only outside input (internal or
  not). As long as a source appears in at most one session of the run, its findings and its
  population statistics are those of its own session. Sessions are therefore put in *rounds*:
  the n-th session of every source goes into round n.
* a session whose source has no window or long-horizon finding in the run has no incident
  in its own run either (incidents are built from findings). So only sessions whose source
  has a finding need their own detector, for their incidents.

Anything that would couple sources in the run makes every session of the round "may fire"
(each then gets its own detector, as before): events dropped as late, long-horizon
evictions (a memory bound across sources) and DNS lookups (the DGA tracker). The population
share of each session (see :mod:`._population`) is the run's population split by source.
``tests/test_stream_scale_units.py`` checks both against a detector per session.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from ..detectors.firewall import FirewallDetector
from ..detectors.firewall._state import KEY, merge_partials, summarize
from ._codec import session_frame

__all__ = ["screen_sessions"]

Rows = Sequence[Mapping[str, Any]]
_COLUMNS = ("events", "ports", "hosts")
_COUPLING = ("late", "horizon_late", "horizon_evicted", "dns_lookups")


def screen_sessions(sessions: Sequence[Rows]) -> list[tuple[bool, dict[str, Any]]]:
    """For each session (rows unique, one ``source_ip``, not empty): may it fire, its share.

    "May fire" is False only when the session's own detector would find no incident; the
    share equals :func:`._population.measure` of the session's own detector.
    """
    out: list[tuple[bool, dict[str, Any]]] = [(True, {})] * len(sessions)
    for members in _rounds(sessions):
        detector = _RoundDetector()
        detector.update(session_frame([row for i in members for row in sessions[i]]))
        firing = detector.firing()
        coupled = any(detector.counters.get(name, 0) for name in _COUPLING)
        for i in members:
            source = str(sessions[i][0]["source_ip"])
            out[i] = (coupled or source in firing, detector.share(source))
    return out


def _rounds(sessions: Sequence[Rows]) -> list[list[int]]:
    """Session indices grouped so that no source appears twice in a group."""
    seen: Counter[str] = Counter()
    rounds: defaultdict[int, list[int]] = defaultdict(list)
    for index, rows in enumerate(sessions):
        source = str(rows[0]["source_ip"])
        rounds[seen[source]].append(index)
        seen[source] += 1
    return [rounds[n] for n in sorted(rounds)]


class _RoundDetector(FirewallDetector):
    """The firewall detector, also keeping its population per source; no incidents built."""

    def __init__(self) -> None:
        super().__init__()
        self._keys: Counter[str] = Counter()
        self._sums: dict[str, Counter[str]] = {c: Counter() for c in _COLUMNS}
        self._squares: dict[str, Counter[str]] = {c: Counter() for c in _COLUMNS}
        self._ports: defaultdict[str, dict[int, int]] = defaultdict(dict)

    def _evaluate(self, rows: pl.DataFrame, *, merged: bool) -> None:
        super()._evaluate(rows, merged=merged)
        # The population side again, as Population.add does it, grouped by source.
        cfg = self.thresholds
        targets = rows.drop("slot") if merged else merge_partials(rows, ("window", *KEY))
        summary = summarize(targets, ("window", "source_ip"))
        whole = pl.col("window").is_null() | (pl.col("window") % cfg.hops_per_window == 0)
        summary, targets = summary.filter(whole), targets.filter(whole)
        per_source = summary.group_by("source_ip").agg(
            pl.len().alias("keys"),
            *(pl.col(c).cast(pl.Float64).sum().alias(c) for c in _COLUMNS),
            *(pl.col(c).cast(pl.Float64).pow(2).sum().alias(f"{c}_sq") for c in _COLUMNS),
        )
        for row in per_source.iter_rows(named=True):
            source = row["source_ip"]
            self._keys[source] += row["keys"]
            for column in _COLUMNS:  # float sums of integers: exact in any order
                self._sums[column][source] += row[column]
                self._squares[column][source] += row[f"{column}_sq"]
        hits = (
            targets.filter(pl.col("destination_port").is_not_null())
            .unique(["window", "source_ip", "destination_port"])
            .group_by("source_ip", "destination_port")
            .len()
        )
        for source, port, count in hits.iter_rows():
            ports = self._ports[source]
            ports[port] = ports.get(port, 0) + count

    def firing(self) -> set[str]:
        """Evaluate every window and long-horizon bucket; the sources with a finding."""
        self._flush(final=True)
        frames = list(self._findings)
        horizon = self._horizon
        if horizon is not None:
            state = horizon._merge()  # noqa: SLF001 - as LongHorizon.finish, without incidents
            if not state.is_empty():
                horizon._evaluate(state)  # noqa: SLF001
            frames += horizon._findings  # noqa: SLF001
        return {str(s) for frame in frames if not frame.is_empty() for s in frame["source_ip"]}

    def share(self, source: str) -> dict[str, Any]:
        """One source's population share, as :func:`._population.measure` gives it."""
        return {
            "keys": self._keys[source],
            "sums": {c: float(self._sums[c][source]) for c in _COLUMNS},
            "squares": {c: float(self._squares[c][source]) for c in _COLUMNS},
            "port_popularity": {str(k): v for k, v in self._ports[source].items()},
        }
