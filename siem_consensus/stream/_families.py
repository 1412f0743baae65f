"""What differs between detector families in a stream job: entity key, session gap, reports.

A stream job keeps each entity's events in a *session* of the engine's state store: a session
is the entity's events separated by less than :attr:`Family.gap_s` of log time. When the
partition's event time passes the end of a session (see :mod:`._worker`), the session is
handed to a fresh detector of the family, exactly as a batch run would see those events. The
gap is chosen so that no detection window and no chain of windows can span two sessions:

* firewall: two windows (``2 * window_s``); a finding chain links windows whose starts are at
  most one window apart, so events further apart than two windows never share an incident;
* ids: two windows of the correlator, for the same reason;
* insider: seven days: a user's baseline is their own history, so a session is a user's
  activity until a week of silence (back-fills usually close it with end-of-input).

A source that never falls silent would keep one session open for ever, so sessions are also
cut at a *maximum span* of log time (:attr:`Family.span_s`): an event belongs to the *segment*
``timestamp // span`` of its entity (:func:`segment_key`), cuts fall on multiples of the span
counted from the epoch, and each segment is a session of its own. The span is a multiple of
every window and bucket of the family's detector, which are aligned to the epoch too, so no
window or bucket straddles a cut: what a window or bucket finds is found in exactly one
segment, as in batch. What a cut does split is a *chain* of adjacent windows (one batch
incident): each segment reports its part as its own incident (see docs/scale.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..detectors.firewall import FirewallDetector, FirewallThresholds
from ..detectors.ids import IdsCorrelator, IdsThresholds
from ..detectors.insider import InsiderDetector
from ..errors import ConfigError
from ..graphs.ids import IDS_NODES, stages_observed
from ..graphs.insider import INSIDER_NODES, INSIDER_THRESHOLD
from ..graphs.triage import NodeNames
from ..report import FirewallReport, IdsReport, InsiderReport, Report

__all__ = ["FAMILIES", "Family", "check_span", "get_family", "segment_key"]

Row = Mapping[str, Any]


def _firewall_key(row: Row) -> str | None:
    value = row.get("source_ip")
    return str(value) if value else None


def _ids_key(row: Row) -> str | None:
    """The attacker/victim pair, unordered, so both directions of a conversation meet."""
    ends = sorted(str(v) for v in (row.get("source_ip"), row.get("destination_ip")) if v)
    return "|".join(ends) or None


def _insider_key(row: Row) -> str | None:
    value = row.get("user_name")
    return str(value).lower() if value else None


@dataclass(frozen=True)
class Family:
    """One detector family as a stream job sees it.

    Attributes:
        name: ``firewall``, ``ids`` or ``insider`` (the batch command of the same name).
        entity: Message key of an event row (EVENT_SCHEMA columns); None when it has none.
        detector: Factory of a fresh detector for one session.
        gap_s: Log-time silence that ends an entity's session.
        min_events: Sessions with fewer events cannot fire any rule and skip the detector.
        report: Report class of the batch command.
        policy: Default consensus policy of the batch command.
        threshold: Default confidence threshold of the batch command.
        names: Stage names of the family's graph (as in checkpoints).
        checks: Extra claim checks of the family's graph.
        approval: Alerts wait for a human (insider): decided through the checkpointed graph.
        default_format: Parser when none is given (None: detected per message).
        span_s: Default maximum session span (log time; None: sessions are cut only by
            silence): a multiple of :attr:`align_s`.
        align_s: The longest window or bucket the detector aligns to the epoch; a span must be
            a multiple of it so that no window straddles a cut.
    """

    name: str
    entity: Callable[[Row], str | None]
    detector: Callable[[], Any]
    gap_s: int
    min_events: int
    report: type[Report]
    policy: str
    threshold: float = 0.8
    names: NodeNames = NodeNames()
    checks: tuple[Any, ...] = ()
    approval: bool = False
    default_format: str | None = None
    span_s: int | None = None
    align_s: int = 3600


def _firewall() -> Family:
    cfg = FirewallThresholds()
    smallest = min(cfg.min_events, cfg.brute_force_attempts + 1, cfg.beacon_min_connections)
    gap = 2 * cfg.window_s
    # The long horizon's buckets (a day) are the longest the detector aligns to the epoch.
    align = math.lcm(cfg.window_s, cfg.long_horizon_s or cfg.window_s)
    return Family(
        "firewall", _firewall_key, FirewallDetector, gap, smallest, FirewallReport, "unanimous",
        span_s=align, align_s=align,
    )  # fmt: skip


def _ids() -> Family:
    cfg = IdsThresholds()
    gap = 2 * cfg.window_s
    # A day: the foothold horizon, the longest during which alerts join one detection.
    span = math.lcm(cfg.window_s, max(cfg.foothold_horizon_s, cfg.window_s))
    return Family(
        "ids", _ids_key, IdsCorrelator, gap, 1, IdsReport, "majority",
        names=IDS_NODES, checks=(stages_observed,), span_s=span, align_s=cfg.window_s,
    )  # fmt: skip


def _insider() -> Family:
    return Family(
        "insider", _insider_key, InsiderDetector, 7 * 86_400, 1, InsiderReport, "unanimous",
        threshold=INSIDER_THRESHOLD, names=INSIDER_NODES, approval=True, default_format="ecs",
        span_s=None, align_s=86_400,
    )  # fmt: skip


FAMILIES: dict[str, Callable[[], Family]] = {
    "firewall": _firewall,
    "ids": _ids,
    "insider": _insider,
}
"""Families a stream job can run, by batch command name."""


def segment_key(entity: str, timestamp_ms: int, span_s: int | None) -> str:
    """The session key of an entity's event: the entity, and with a span its segment.

    Segments are numbered from the epoch (``timestamp // span``), so every worker, every run
    and every redelivery puts an event in the same segment, whatever the arrival order.
    """
    if not span_s:
        return entity
    return f"{entity}#{timestamp_ms // (span_s * 1000)}"


def check_span(family: Family, span_s: int | None) -> int | None:
    """The maximum session span to use: the family's default when None, none when 0.

    Raises:
        ConfigError: A negative span, or one that is not a multiple of ``family.align_s``.
    """
    if span_s is None:
        return family.span_s
    if span_s == 0:
        return None
    if span_s < 0 or span_s % family.align_s:
        raise ConfigError(
            f"max session span {span_s} s for {family.name}: give a positive multiple of "
            f"{family.align_s} s (the longest window its detector aligns to the epoch), or 0 "
            "for none"
        )
    return span_s


def get_family(name: str) -> Family:
    """The family of a batch command; unknown names raise a ConfigError listing the valid ones."""
    try:
        return FAMILIES[name]()
    except KeyError:
        raise ConfigError.unknown("stream family", name, FAMILIES) from None
