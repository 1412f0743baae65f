"""Insider-threat detector: per-user baselines, per-day features, corroborated episodes.

Streaming and vectorised (polars). Each batch of logon, device, file, web and email events is
aggregated into per-user, per-day rows (:mod:`._state`): counts, bytes, an hour-of-day
histogram, the resources (file directories, web domains, mail recipient domains) and hosts
used, and a bounded evidence sample. Every column merges associatively, so the result does
not depend on batch sizes nor on file order (CERT data comes as one file per event type).
Memory is bounded by users x days x distinct resources and hosts per user-day, never by the
number of events.

:meth:`InsiderDetector.finish` then

1. splits the input into a baseline period (the first ``baseline_days`` days, or before
   ``baseline_until``) and a detection period;
2. builds per-user baselines from the baseline period only (usual hours, hosts, resources,
   daily medians and 90th percentiles, removable-media habits) and peer baselines per
   department (role, else the whole organisation) when a directory is given
   (:mod:`._baseline`);
3. computes features per user and detection day and scores them (:mod:`._features`,
   where every feature and the score formula are documented);
4. chains suspicious days into episodes, adds intent context (job search, leaving) and keeps
   the corroborated ones: several independent families of evidence, never one weak feature
   (:mod:`._pipeline`);
5. describes each as one incident per user and episode (:mod:`._incidents`,
   :mod:`._text`).

Poisoning guards: baselines come from the baseline period only; the volume reference can
follow later days only up to ``volume_growth_per_week`` of growth; a resource or host first
used after the baseline stays "never seen" for ``novelty_days`` (:mod:`._novelty`).

Rows without a user or a timestamp are counted (``no_user``, ``untimed``) and ignored.

``Incident.stats`` keys (stable names, read by the analysts):

* ``user``, ``role``, ``department`` (directory; None without one), ``baseline_days`` (the
  user's active baseline days), ``active_days``, ``days`` (ISO dates), ``events``;
* ``volume_bytes``, ``baseline_daily_bytes`` (median), ``volume_ratio`` (episode bytes over
  baseline x active days; None without a baseline), ``volume_reference_bytes`` (the capped
  reference the volume rule used), ``peer_daily_bytes`` (peer group median);
* ``downloads``, ``new_resources`` (count), ``new_resource_examples`` (at most 10, largest
  first), ``new_resources_outside_peers``;
* ``off_hours_share`` (outside the usual hours), ``usual_hours`` ([start, end), end exclusive;
  start > end crosses midnight; None without a baseline);
* ``new_hosts``, ``foreign_hosts`` (counts), ``removable_media_first_time`` (bool),
  ``removable_media_events``, ``job_sites`` (job-site events, context window included),
  ``cloud_uploads``, ``external_attachments`` (mails with attachments sent outside),
  ``personal_attachments``, ``competitor_contacts``, ``privilege_actions`` (admin-tool hits
  plus other users' machines), ``keylogger`` (bool);
* ``after_hours_logons`` (logons outside the absolute working hours), ``leak_site_visits``
  (requests to leak sites), ``foreign_logons``, ``foreign_media_events`` and
  ``foreign_mails`` (logons, removable-media events and mails on another user's machine or
  with another user's sender address), ``max_recipients`` (the largest mail);
* ``left_company`` (bool from the directory, None without one), ``left_on``;
* ``features`` (names that fired), ``families``, ``score_terms`` (strength per feature),
  ``pattern`` (short label), ``narrative`` (1-2 sentences with the numbers);
* ``population``: ``keys`` (detection user-days), ``score_mean/std``,
  ``volume_ratio_mean/std`` (users with a baseline), ``features_mean/std``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import polars as pl

from ...errors import UsageError
from ...models import Incident
from ..base import Detector, register
from ._config import InsiderThresholds
from ._incidents import build_incidents
from ._pipeline import analyse, episodes, population
from ._sites import SiteLists
from ._state import PartialStore, batch_partials

__all__ = ["InsiderDetector", "InsiderThresholds", "SiteLists"]

_EMPTY_POPULATION: dict[str, Any] = {
    "keys": 0, "score_mean": 0.0, "score_std": 0.0, "volume_ratio_mean": 0.0,
    "volume_ratio_std": 0.0, "features_mean": 0.0, "features_std": 0.0,
}  # fmt: skip


@register
class InsiderDetector(Detector):
    """Detect insider data theft and privilege abuse against per-user and peer baselines.

    Args:
        thresholds: Detection thresholds; documented defaults when None.
        directory: The LDAP/HR frame (``user_id``, ``email``, ``role``, ``department``,
            ``last_month``, ...), for peer groups and leavers; optional.
        job_sites: Job-search sites (default: the ``job`` category of ``sites.json``).
        cloud_sites: Cloud-storage, file-drop, paste and leak sites (uploads there count).
        leak_sites: Leak sites (any request counts; default: the ``leak`` category of
            ``sites.json``).
        competitor_domains: Competitors' web and mail domains (none by default).
        personal_email_domains: Free-mail providers.
        company_domains: The company's mail domains (default: from the directory, else the
            domain most users mail to).

    Attributes:
        counters: ``events`` seen, and those not used: ``no_user``, ``untimed``.

    A detector reads one input: create a new one for the next.
    """

    name: ClassVar[str] = "insider"
    description: ClassVar[str] = (
        "Insider threat per user and day against personal and peer baselines: volume, "
        "never-seen resources, off-hours and first after-hours logons, removable media, "
        "cloud, leak-site and mail exfiltration, privilege actions, acting as another user, "
        "mass mail; alerts only on corroboration."
    )

    def __init__(
        self,
        thresholds: InsiderThresholds | None = None,
        directory: pl.DataFrame | None = None,
        *,
        job_sites: Iterable[str] | None = None,
        cloud_sites: Iterable[str] | None = None,
        competitor_domains: Iterable[str] | None = None,
        personal_email_domains: Iterable[str] | None = None,
        company_domains: Iterable[str] | None = None,
        leak_sites: Iterable[str] | None = None,
    ) -> None:
        self.thresholds = thresholds or InsiderThresholds()
        self.directory = directory
        self.lists = SiteLists.of(
            job_sites,
            cloud_sites,
            competitor_domains,
            personal_email_domains,
            company_domains,
            leak_sites,
        )
        self._jobs = self.lists.job_pattern()
        self.counters: dict[str, int] = dict.fromkeys(("events", "no_user", "untimed"), 0)
        self._store = PartialStore(self.thresholds.evidence_per_tag)
        self._population: dict[str, Any] = dict(_EMPTY_POPULATION)
        self._user_days = pl.DataFrame()
        self._incidents: list[Incident] | None = None

    @property
    def population(self) -> dict[str, Any]:
        """Summary over every detection user-day (complete after :meth:`finish`)."""
        return dict(self._population)

    @property
    def user_days(self) -> pl.DataFrame:
        """The scored detection user-days (after :meth:`finish`): ``user, day, events, bytes,
        downloads, reference, ratio, score, families, features, suspicious`` and one
        ``s_<feature>`` strength column per feature."""
        return self._user_days

    def update(self, batch: pl.DataFrame) -> None:
        """Fold one event batch (EVENT_SCHEMA columns plus ``source``) into the state."""
        if self._incidents is not None:
            raise UsageError("this InsiderDetector is finished; create a new one per input")
        if batch.is_empty():
            return
        counts = batch.select(
            pl.col("user_name").is_null().sum().alias("no_user"),
            (pl.col("user_name").is_not_null() & pl.col("timestamp").is_null())
            .sum()
            .alias("untimed"),
        ).row(0, named=True)
        self.counters["events"] += batch.height
        for key, value in counts.items():
            self.counters[key] += int(value)
        self._store.add(batch_partials(batch, self.thresholds, self._jobs))

    def finish(self) -> list[Incident]:
        """Build baselines, score every detection user-day, return incidents (most severe first)."""
        if self._incidents is None:
            tables = self._store.tables()
            self._store.clear()
            self._incidents = [] if tables is None else self._detect(tables)
        return list(self._incidents)

    def _detect(self, tables: dict[str, pl.DataFrame]) -> list[Incident]:
        if tables["days"].is_empty():
            return []
        analysis = analyse(tables, self.thresholds, self.lists, self.directory)
        self._population = population(analysis.days)
        self._user_days = analysis.days.select(
            "user", "day", pl.col("n").alias("events"), "bytes", pl.col("dl").alias("downloads"),
            "reference", "ratio", "score", "families", "features", "suspicious",
            pl.col("^s_.*$"),
        )  # fmt: skip
        found = episodes(analysis.days, self.thresholds)
        return build_incidents(analysis, found, self.thresholds, self.population)

    def assign(self, batch: pl.DataFrame, incidents: Sequence[Incident]) -> pl.DataFrame:
        """Rows ``event_id, incident_id`` for the events of ``batch`` inside ``incidents``.

        An event belongs to an incident when it is the incident's user's and its timestamp
        lies in ``[first_seen, last_seen]``.
        """
        spec = _incident_spec(incidents)
        empty = pl.DataFrame(schema={"event_id": pl.String, "incident_id": pl.String})
        if spec.is_empty() or batch.is_empty():
            return empty
        return (
            batch.lazy()
            .select("source", "line", "timestamp", pl.col("user_name").alias("user"))
            .join(spec.lazy(), on="user", how="inner")
            .filter(pl.col("timestamp").is_between(pl.col("first_seen"), pl.col("last_seen")))
            .select(pl.format("{}:{}", "source", "line").alias("event_id"), pl.col("incident_id"))
            .collect()
        )


def _incident_spec(incidents: Sequence[Incident]) -> pl.DataFrame:
    rows = [
        {
            "incident_id": i.id,
            "user": i.entities.users[0],
            "first_seen": i.first_seen,
            "last_seen": i.last_seen,
        }
        for i in incidents
        if i.detector == "insider" and i.entities.users and i.first_seen and i.last_seen
    ]
    schema: dict[str, pl.DataType] = {
        "incident_id": pl.String(),
        "user": pl.String(),
        "first_seen": pl.Datetime("us", "UTC"),
        "last_seen": pl.Datetime("us", "UTC"),
    }
    return pl.DataFrame(rows, schema=schema)
