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
"""

from __future__ import annotations

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

__all__ = ["FAMILIES", "Family", "get_family"]

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


def _firewall() -> Family:
    cfg = FirewallThresholds()
    smallest = min(cfg.min_events, cfg.brute_force_attempts + 1, cfg.beacon_min_connections)
    gap = 2 * cfg.window_s
    return Family(
        "firewall", _firewall_key, FirewallDetector, gap, smallest, FirewallReport, "unanimous"
    )


def _ids() -> Family:
    gap = 2 * IdsThresholds().window_s
    return Family(
        "ids", _ids_key, IdsCorrelator, gap, 1, IdsReport, "majority",
        names=IDS_NODES, checks=(stages_observed,),
    )  # fmt: skip


def _insider() -> Family:
    return Family(
        "insider", _insider_key, InsiderDetector, 7 * 86_400, 1, InsiderReport, "unanimous",
        threshold=INSIDER_THRESHOLD, names=INSIDER_NODES, approval=True, default_format="ecs",
    )  # fmt: skip


FAMILIES: dict[str, Callable[[], Family]] = {
    "firewall": _firewall,
    "ids": _ids,
    "insider": _insider,
}
"""Families a stream job can run, by batch command name."""


def get_family(name: str) -> Family:
    """The family of a batch command; unknown names raise a ConfigError listing the valid ones."""
    try:
        return FAMILIES[name]()
    except KeyError:
        raise ConfigError.unknown("stream family", name, FAMILIES) from None
