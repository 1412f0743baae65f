"""IDS alert correlation: thousands of Suricata/Snort/Wazuh/AMiner alerts -> a few incidents.

Entity-centric, streaming and vectorised (polars). Each batch's alerts are mapped to ATT&CK and
a kill-chain stage (:mod:`~siem_consensus.enrich.attack_map`), their severities normalised
(:mod:`._config`) and aggregated into partial rows keyed by ``(window, endpoint a,
endpoint b, sensor, signature, rule)`` (:mod:`._state`). Once the state holds more than
``max_open_rows`` rows, windows whose end is ``allowed_lateness_s`` behind the newest alert are
closed (:mod:`._windows`): floods are recognised per signature, attack steps marked, and
only rows touching an entity with an attack step in that window are kept; the rest feed the
population baseline and the flood tracker (:mod:`._floods`) and are dropped. Memory is
therefore bounded by the open windows, the attack activity and the number of signatures.

:meth:`IdsCorrelator.finish` closes every window, links entities through their attack steps
into components (:mod:`._groups`: alerts of any sensor about the same pair meet; a victim's
later outbound steps join its attacker's campaign; far-apart activity stays apart, except a
compromised host's later post-exploitation steps, :mod:`._footholds`) and
describes each qualifying component as an incident (:mod:`._incidents`), plus one
``alert_flood`` incident per flooding signature and run of flood windows.

Kinds: ``campaign`` (several kill-chain stages), ``single_stage`` (enough alerts of one stage,
or of unmapped high-severity signatures), ``alert_flood`` (low).

``Incident.stats`` keys (stable names, read by the analysts): ``alerts``,
``distinct_signatures``, ``signatures`` ([name, count], top 20), ``stages`` (kill-chain
stages, in kill-chain order), ``stage_count``, ``tactics`` (ATT&CK display names, in matrix
order), ``max_severity`` (normalised 1-4, 4 most severe; None when the sensors gave none),
``severity_counts`` ({"4", "3", "2", "1", "unknown"}), ``sensors``, ``intel_hits``
([indicator, list]), ``asset_criticality`` (or None), ``flood``, ``narrative``, ``population``
({keys, alerts/signatures/stages _mean/_std} over every (window, a, b) group of the input);
and also ``attack_steps``, ``phases``, ``techniques`` ([id, alerts]), ``max_stage_rank``,
``duration_s``, ``windows``, ``attackers``, ``victims``, ``peers``, ``member_entities`` (the
entities :meth:`~IdsCorrelator.assign` uses), ``flooded_alerts``, ``episodes`` (one entry per
episode of a recurring single-stage finding, :mod:`._recurring`: first, last, alerts,
attack_steps, windows, signatures); floods add ``flood_windows``, ``max_pairs_per_window`` and
``top_pairs``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import polars as pl

from ...enrich.attack_map import AttackMap, default_map
from ...enrich.intel import ThreatIntel
from ...enrich.zones import AssetInventory
from ...errors import UsageError
from ...models import Incident
from ..base import Detector, register
from ._config import IdsThresholds
from ._evidence import records
from ._floods import FloodTracker, flood_incident
from ._footholds import Footholds
from ._groups import components, qualify
from ._incidents import Context, Row, group_incident
from ._membership import assign_members
from ._recurring import merge_recurring
from ._state import LEVELS, SlotStore, alerts_of, batch_partial
from ._windows import Population, evaluate

__all__ = ["IdsCorrelator", "IdsThresholds"]


def _runs(windows: pl.DataFrame) -> dict[int, list[list[Any]]]:
    """Per group, ``[entity, first slot, last slot]`` runs of consecutive active windows
    (a null slot, the untimed window, is its own run)."""
    ordered = windows.sort("group", "e", "slot", nulls_last=True)
    runs: dict[int, list[list[Any]]] = {}
    for group, entity, slot in ordered.iter_rows():
        mine = runs.setdefault(group, [])
        last = mine[-1] if mine else None
        follows = last is not None and last[0] == entity and last[2] is not None
        if follows and slot is not None and last is not None and slot == last[2] + 1:
            last[2] = slot
            continue
        mine.append([entity, slot, slot])
    return runs


@register
class IdsCorrelator(Detector):
    """Correlate IDS alerts into campaigns, single-stage groups and floods.

    Args:
        thresholds: Grouping and flood thresholds; documented defaults when None.
        inventory: Asset inventory for criticality (scores and stats); none by default.
        intel: Threat-intel lists: listed entities make alerts attack steps and add to scores.
        attack_map: Signature -> ATT&CK table; the built-in one by default.

    Attributes:
        counters: ``events`` seen, ``alerts`` among them, and ``late`` alerts ignored.

    A correlator reads one input: create a new one for the next.
    """

    name: ClassVar[str] = "ids"
    description: ClassVar[str] = (
        "IDS alert correlation per entity and window: multi-stage campaigns, single-stage "
        "groups and alert floods."
    )

    def __init__(
        self,
        thresholds: IdsThresholds | None = None,
        *,
        inventory: AssetInventory | None = None,
        intel: ThreatIntel | None = None,
        attack_map: AttackMap | None = None,
    ) -> None:
        self.thresholds = thresholds or IdsThresholds()
        self.inventory = inventory
        self.intel = intel
        self.attack_map = attack_map or default_map()
        self.counters: dict[str, int] = dict.fromkeys(("events", "alerts", "late"), 0)
        self._stages = [self.attack_map.stage(i) for i in range(len(self.attack_map.rules))]
        ranks = self.attack_map.stage_ranks
        rules = self.attack_map.rules
        self._sweep_rules = [i for i, r in enumerate(ranks) if r == 0]
        self._post_rules = [i for i, r in enumerate(ranks) if r >= 2]
        follow = [i for i, rule in enumerate(rules) if rule.follow_up]
        self._footholds = Footholds(
            [
                i
                for i, rule in enumerate(rules)
                if not rule.follow_up and rule.stage_name in self.thresholds.foothold_stages
            ],
            follow,
            self.thresholds.foothold_windows,
        )
        self._store = SlotStore()
        self._kept: list[pl.DataFrame] = []
        self._floods = FloodTracker(self.thresholds)
        self._population = Population()
        self._watermark: int | None = None
        self._evaluated: int | None = None
        self._incidents: list[Incident] | None = None

    @property
    def population(self) -> dict[str, Any]:
        """Baseline over every (window, a, b) group closed so far (complete after finish)."""
        return self._population.summary()

    def update(self, batch: pl.DataFrame) -> None:
        """Fold one event batch (EVENT_SCHEMA columns plus ``source``) into the state."""
        if self._incidents is not None:
            raise UsageError("this IdsCorrelator is finished; create a new one per input")
        self.counters["events"] += batch.height
        alerts = alerts_of(batch, self.attack_map, self.thresholds.window_us)
        if alerts.is_empty():
            return
        self.counters["alerts"] += alerts.height
        if self._evaluated is not None:
            late = pl.col("slot") <= self._evaluated
            self.counters["late"] += alerts.filter(late).height
            alerts = alerts.filter(late.not_().fill_null(True))
        newest = alerts["ts"].dt.epoch("us").max()
        if isinstance(newest, int):
            self._watermark = max(newest, self._watermark or newest)
        if not alerts.is_empty():
            self._store.add(batch_partial(alerts, batch, self.attack_map))
        self._flush(final=False)

    def _flush(self, *, final: bool) -> None:
        cfg = self.thresholds
        upto: int | None = None
        if not final:
            if self._watermark is None or self._store.rows <= cfg.max_open_rows:
                return
            upto = (self._watermark - cfg.lateness_us) // cfg.window_us - 1
            if self._evaluated is not None and upto <= self._evaluated:
                return
        rows = self._store.take(upto, untimed=final)
        if rows is not None and not rows.is_empty():
            listed = self._listed if self.intel is not None and len(self.intel) else None
            footholds = self._footholds
            closed = evaluate(
                rows,
                cfg,
                self._stages,
                listed,
                self._population,
                footholds.follow_rules,
                footholds.mark,
            )
            if not closed.kept.is_empty():
                self._kept.append(closed.kept)
            self._floods.add(closed)
        if upto is not None:
            self._evaluated = upto

    def _listed(self, values: list[str]) -> list[str]:
        assert self.intel is not None
        return [v for v in values if self.intel.lookup(v)]

    def finish(self) -> list[Incident]:
        """Close every window and return the incidents, most severe first."""
        if self._incidents is None:
            self._flush(final=True)
            ctx = Context(
                self.thresholds, self.attack_map, self.inventory, self.intel, self.population
            )
            kept = pl.concat(self._kept) if self._kept else None
            self._kept = []
            incidents, absorbed = self._groups(kept, ctx)
            chains = self._floods.finish(absorbed)
            incidents += [flood_incident(chain, ctx) for chain in chains]
            incidents.sort(key=lambda i: (-i.severity.rank, -i.score, i.id))
            self._incidents = incidents
        return list(self._incidents)

    def _groups(
        self, kept: pl.DataFrame | None, ctx: Context
    ) -> tuple[list[Incident], pl.DataFrame]:
        empty = pl.DataFrame(schema={"slot": pl.Int64, "sig": pl.String, "n": pl.Int64})
        if kept is None or kept.is_empty():
            return [], empty.with_columns(*(pl.lit(0, pl.Int64).alias(c) for c in LEVELS))
        rows, windows = components(
            kept,
            self.thresholds,
            self._sweep_rules,
            self._footholds.foothold_rules,
            self._post_rules,
        )
        chosen = qualify(rows, self.thresholds, self._stages)
        rows = rows.join(chosen, on="group")
        active = _runs(windows.join(chosen.select("group"), on="group"))
        parts: dict[tuple[int, str], list[Row]] = {}
        for row in records(rows):
            parts.setdefault((row["group"], row["kind"]), []).append(row)
        incidents = [
            group_incident(part.rows, part.runs, part.kind, ctx, part.episodes)
            for part in merge_recurring(parts, active, self.thresholds)
        ]
        absorbed = rows.group_by("slot", "sig").agg(*(pl.col(c).sum() for c in ("n", *LEVELS)))
        return incidents, absorbed

    def assign(self, batch: pl.DataFrame, incidents: Sequence[Incident]) -> pl.DataFrame:
        """Rows ``event_id, incident_id`` for the alerts of ``batch`` inside ``incidents``.

        An alert belongs to a campaign or single-stage incident when every endpoint of it is
        one of the incident's ``member_entities`` and one of them was active (had an attack
        step) in the alert's window, as listed in ``stats["active_windows"]``; to an
        ``alert_flood`` incident when it has the flood's signature, is in its time span and
        belongs to no campaign or single-stage incident. Each alert belongs to at most one
        incident (the first of ``incidents`` that claims it). These are the alerts
        ``event_count`` counts.
        """
        return assign_members(batch, [i for i in incidents if i.detector == "ids"])
