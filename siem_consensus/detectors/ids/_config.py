"""Thresholds of the IDS correlator and the severity scale it normalises to.

Defaults start from the book's IDS grouping rule (``seed/SCENARIOS.md``: per attacker/victim
pair within a window, at least 3 alerts, escalate on several distinct alert types or kill-chain
stages), then were checked on the AIT Alert Data Set (``docs/evaluation.md``). Tune them on
your data.

Normalised severity (1-4, **4 the most severe**), from ``event_severity`` as the sensor wrote it:

* Wazuh rule levels (an alert whose ``event_code`` is ``wazuh:<rule_id>``): 0-3 -> 1,
  4-7 -> 2, 8-11 -> 3, 12 and above -> 4;
* every other sensor is read as a Suricata/Snort priority, where **1 is the most severe**:
  1 (or 0) -> 4, 2 -> 3, 3 -> 2, 4 and above -> 1. Suricata alerts relayed by Wazuh keep
  their Suricata severity and signature id, so ``event_code`` no longer matches and they are
  read as priorities too;
* no severity (AIT-ADS, some exports) stays unknown: it neither raises nor lowers a score.
"""

from __future__ import annotations

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ...enrich.attack_map import STAGE_RANK

__all__ = ["IdsThresholds", "normalised_severity"]


class IdsThresholds(BaseModel):
    """Configuration of :class:`~siem_consensus.detectors.ids.IdsCorrelator`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window_s: int = Field(
        3600,
        gt=0,
        description="Aggregation window, seconds: alerts are summed per window, "
        "entity pair and signature, and floods are judged per window and signature.",
    )
    min_alerts: int = Field(
        3,
        ge=1,
        description="An entity group becomes an incident with at least this many "
        "attack-step alerts (alerts mapped to a kill-chain stage, or of severity at least "
        "link_min_severity, that are not part of a flood).",
    )
    standalone_stages: frozenset[str] = Field(
        frozenset({"impact"}),
        description="Kill-chain stages whose attack steps make an "
        "incident on their own, below min_alerts: the end of the chain (a service stopped, "
        "data destroyed) is too consequential to wait for volume.",
    )
    campaign_min_stages: int = Field(
        2,
        ge=2,
        description="Distinct kill-chain stages that make a group a multi-stage "
        "campaign; fewer make it single_stage.",
    )
    escalate_signatures: int = Field(
        3,
        ge=1,
        description="Distinct signatures at which the 'several alert types' part of "
        "the score is full.",
    )
    campaign_gap_s: int = Field(
        3600,
        ge=0,
        description="An entity's attack-step activity separated by more than this "
        "(rounded to whole windows) starts a new group: far-apart campaigns stay apart.",
    )
    sweep_min_hosts: int = Field(
        3,
        ge=2,
        description="Hosts that, in one window, report a reconnaissance step on alerts "
        "carrying only their own address (no attacker address) and so are one scan of the "
        "network: their activity is linked into one group. Two hosts are not yet a sweep.",
    )
    foothold_horizon_s: int = Field(
        86400,
        ge=0,
        description="How long a host stays 'compromised' after it was the target of a "
        "foothold step (one of foothold_stages), rounded down to whole windows: its later "
        "post-exploitation steps (execution and beyond) within this horizon join the "
        "foothold's group however far apart, and the alerts of follow_up mapping rules "
        "(stage evidence only after a foothold) become attack steps on it. 0 turns both off.",
    )
    foothold_stages: frozenset[str] = Field(
        frozenset({"initial_access", "execution", "persistence"}),
        description="Kill-chain stages whose attack steps (of mapping rules that are not "
        "follow_up rules) mark their target host as a foothold.",
    )
    recurrence_gap_s: int = Field(
        7 * 86400,
        ge=0,
        description="Single-stage groups of one host with the same mapping rules whose "
        "episodes follow each other within this many seconds are one recurring incident "
        "(one review item, every episode described); 0 never merges.",
    )
    link_min_severity: int = Field(
        3,
        ge=1,
        le=5,
        description="Normalised severity (1-4) at which an alert no mapping rule "
        "explains still counts as an attack step (5 disables it).",
    )
    flood_max_severity: int = Field(
        2,
        ge=1,
        le=4,
        description="A flood never has an alert above this normalised severity "
        "(unknown counts as 1). Within that limit, in one window, a signature is a flood...",
    )
    flood_min_alerts: int = Field(
        100,
        ge=1,
        description="...when no mapping rule explains it and it fired at least this "
        "many times (volume: package-manager user agents, protocol anomalies)...",
    )
    flood_min_sources: int = Field(
        10,
        ge=2,
        description="...or, mapped to a stage, when at least this many distinct "
        "sources fired it (background scanning from the internet is many sources; an "
        "attacker sweeping a network is one). Flood alerts are not attack steps.",
    )
    flood_gap_s: int = Field(
        86400,
        ge=0,
        description="Flood windows of one signature closer than this are one alert_flood incident.",
    )
    max_open_rows: int = Field(
        200_000,
        ge=0,
        description="Aggregated rows kept in open windows before windows past "
        "the lateness horizon are evaluated and dropped (see firewall: exact in any time order "
        "until then; later, events older than the horizon are counted as late).",
    )
    allowed_lateness_s: int | None = Field(
        None,
        ge=0,
        description="How far behind the newest timestamp an alert may arrive once "
        "windows are being closed; None means one window.",
    )
    evidence_limit: int = Field(50, ge=1, le=1000, description="Evidence events per incident.")
    max_listed_entities: int = Field(
        50, ge=1, description="Addresses listed in Incident.entities (membership uses all)."
    )

    @field_validator("standalone_stages", "foothold_stages")
    @classmethod
    def _check_stages(cls, value: frozenset[str]) -> frozenset[str]:
        unknown = sorted(value - set(STAGE_RANK))
        if unknown:
            raise ValueError(f"unknown stages {unknown}; valid: {', '.join(STAGE_RANK)}")
        return value

    @property
    def window_us(self) -> int:
        """Window length in microseconds."""
        return self.window_s * 1_000_000

    @property
    def lateness_us(self) -> int:
        """Allowed lateness in microseconds."""
        late = self.window_s if self.allowed_lateness_s is None else self.allowed_lateness_s
        return late * 1_000_000

    @property
    def gap_windows(self) -> int:
        """Largest difference of window numbers that still chains an entity's activity."""
        return 1 + self.campaign_gap_s // self.window_s

    @property
    def foothold_windows(self) -> int:
        """Largest difference of window numbers within the foothold horizon (-1: off)."""
        return self.foothold_horizon_s // self.window_s if self.foothold_horizon_s else -1

    @property
    def flood_gap_windows(self) -> int:
        """Largest difference of window numbers that still chains a signature's floods."""
        return 1 + self.flood_gap_s // self.window_s


def normalised_severity() -> pl.Expr:
    """``event_severity`` on the common 1-4 scale (4 most severe), null when unknown (Int8)."""
    level = pl.col("event_severity")
    wazuh = pl.col("event_code") == pl.concat_str(pl.lit("wazuh:"), pl.col("rule_id"))
    from_wazuh = (
        pl.when(level >= 12).then(4).when(level >= 8).then(3).when(level >= 4).then(2).otherwise(1)
    )
    from_priority = (
        pl.when(level <= 1).then(4).when(level == 2).then(3).when(level == 3).then(2).otherwise(1)
    )
    return (
        pl.when(level.is_null())
        .then(None)
        .when(wazuh.fill_null(False))
        .then(from_wazuh)
        .otherwise(from_priority)
        .cast(pl.Int8)
    )
