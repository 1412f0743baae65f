"""The insider detector's analysis at finish: merged tables in, scored user-days out.

Order: baseline end -> classification of web and mail domains -> daily counts -> user and
peer baselines -> never-seen resources and hosts -> per-day features and scores
(:mod:`._features`) -> the population summary over every detection user-day ->
episodes.

Suspicious days (any non-intent feature fired) of one user at most ``max_gap_days`` apart
form an episode. An episode's feature strengths are the largest over its days; job-search
activity in the ``context_days`` before it (or during it) and a departure within
``leaver_window_days`` after it join as intent context. The score formula is the day formula
(:func:`~._features.score_columns`). An episode becomes an incident when at least
``min_families`` families fired and the score is at least ``min_score``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import polars as pl

from ._baseline import (
    baseline_end,
    daily_counts,
    directory_frame,
    host_owners,
    peer_stats,
    user_baselines,
)
from ._config import InsiderThresholds
from ._features import FEATURES, day_features, score_columns
from ._foreign import foreign_counts, sender_owners, with_foreign
from ._novelty import host_counts, new_hosts, new_resources, novelty_counts, with_trailing
from ._sites import SiteLists, classify, company_domains

__all__ = ["EPISODE_SUMS", "Analysis", "analyse", "episodes", "population"]


@dataclass(frozen=True)
class Analysis:
    """Everything the incident builder needs, all bounded by users x days.

    Attributes:
        end: First day of the detection period.
        first_day: First day of the input.
        days: Scored detection user-days (:func:`~._features.day_features`).
        daily: Every user-day (baseline included) with category counts.
        resources: Classified resource rows of every day.
        novel: Never-seen resources per user and detection day.
        novel_hosts: Never-used hosts per user and detection day.
        hosts: Host rows of every day.
        evidence: Evidence sample rows.
        people: User directory facts (role, department, peer group, leaving).
    """

    end: date
    first_day: date
    days: pl.DataFrame
    daily: pl.DataFrame
    resources: pl.DataFrame
    novel: pl.DataFrame
    novel_hosts: pl.DataFrame
    hosts: pl.DataFrame
    evidence: pl.DataFrame
    people: pl.DataFrame


def analyse(
    tables: dict[str, pl.DataFrame],
    cfg: InsiderThresholds,
    lists: SiteLists,
    directory: pl.DataFrame | None,
) -> Analysis:
    """Baselines, novelty and per-day features of the merged state tables."""
    days, hosts = tables["days"], tables["hosts"]
    end = baseline_end(days, cfg)
    company = company_domains(tables["resources"], lists, directory)
    is_sender = pl.col("kind") == "sender"
    senders = tables["resources"].filter(is_sender)
    resources = classify(tables["resources"].filter(~is_sender), lists, company)
    owners = host_owners(hosts, end)
    foreign = foreign_counts(hosts, senders, owners, sender_owners(senders, directory, end))
    daily = with_trailing(with_foreign(daily_counts(days, resources, hosts), foreign), cfg)
    people = directory_frame(directory, daily["user"])
    base = user_baselines(daily, resources, hosts, end, cfg)
    novel = new_resources(resources, people, end, cfg)
    novel_hosts = new_hosts(hosts, owners, end, cfg)
    joined = (
        daily.join(base, on="user", how="left")
        .join(people, on="user", how="left")
        .join(peer_stats(daily, people, end), on="group", how="left")
        .join(novelty_counts(novel), on=["user", "day"], how="left")
        .join(host_counts(novel_hosts), on=["user", "day"], how="left")
    )
    first = days["day"].min()
    return Analysis(
        end=end,
        first_day=first if isinstance(first, date) else end,
        days=day_features(joined, end, cfg),
        daily=daily,
        resources=resources,
        novel=novel,
        novel_hosts=novel_hosts,
        hosts=hosts,
        evidence=tables["evidence"],
        people=people,
    )


def _mean_std(values: pl.Series) -> tuple[float, float]:
    if values.is_empty():
        return 0.0, 0.0
    numbers = [float(v) for v in values.drop_nulls().to_list()]
    if not numbers:
        return 0.0, 0.0
    mean = sum(numbers) / len(numbers)
    var = sum((v - mean) ** 2 for v in numbers) / len(numbers)
    return round(mean, 4), round(math.sqrt(max(var, 0.0)), 4)


def population(days: pl.DataFrame) -> dict[str, Any]:
    """Means and standard deviations over every detection user-day.

    ``keys`` counts the user-days; ``volume_ratio`` is over the user-days of users with a
    baseline (the others have no ratio); ``features`` is the number of features fired.
    """
    out: dict[str, Any] = {"keys": days.height}
    ratios = days.filter(pl.col("has_base"))["ratio"] if days.height else pl.Series([])
    columns = {
        "score": days["score"] if days.height else pl.Series([]),
        "volume_ratio": ratios,
        "features": days["features"].list.len() if days.height else pl.Series([]),
    }
    for name, values in columns.items():
        mean, std = _mean_std(values.cast(pl.Float64))
        out[f"{name}_mean"], out[f"{name}_std"] = mean, std
    return out


EPISODE_SUMS = (
    "n", "bytes", "dl", "up", "rm", "tool", "spy", "mails", "off_abs", "off_n", "job", "cloud_up",
    "cloud_n", "competitor", "ext_attach", "personal_attach", "new_hosts_n", "foreign_n",
    "logon_off", "leak_n", "foreign_logon_n", "foreign_media_n", "foreign_mail_n",
)  # fmt: skip
"""Per-day counts summed over an episode's days."""


def _chained(days: pl.DataFrame, cfg: InsiderThresholds) -> pl.DataFrame:
    gap = pl.col("day").diff().dt.total_days() > cfg.max_gap_days
    return (
        days.filter(pl.col("suspicious"))
        .sort("user", "day")
        .with_columns(gap.fill_null(True).cast(pl.Int32).cum_sum().over("user").alias("episode"))
    )


def _context(days: pl.DataFrame, spans: pl.DataFrame, cfg: InsiderThresholds) -> pl.DataFrame:
    """Job-search strength and hits in the context window of each episode."""
    before = timedelta(days=cfg.context_days)
    hits = days.filter(pl.col("s_job_search") > 0).select("user", "day", "s_job_search", "job")
    return (
        spans.join(hits, on="user")
        .filter(pl.col("day").is_between(pl.col("start") - before, pl.col("stop")))
        .group_by("user", "episode")
        .agg(pl.col("s_job_search").max().alias("ctx_job"), pl.col("job").sum().alias("ctx_hits"))
    )


def episodes(days: pl.DataFrame, cfg: InsiderThresholds) -> pl.DataFrame:
    """One row per qualifying episode: span, summed counts, strengths, score, features.

    Columns: ``user, episode, start, stop, day_list, t_first, t_last``, the sums of
    :data:`EPISODE_SUMS`, ``max_ratio``, ``reference``, ``has_base``, ``s_<feature>``,
    ``job_hits`` (context included), ``score``, ``families`` and ``features``.
    """
    if days.is_empty():
        return pl.DataFrame()
    chained = _chained(days, cfg)
    if chained.is_empty():
        return pl.DataFrame()
    spans = chained.group_by("user", "episode").agg(
        pl.col("day").min().alias("start"),
        pl.col("day").max().alias("stop"),
        pl.col("day").sort().alias("day_list"),
        pl.col("t_first").min(),
        pl.col("t_last").max(),
        *(pl.col(c).sum() for c in EPISODE_SUMS),
        pl.col("ratio").max().alias("max_ratio"),
        pl.col("rcpt_max").max(),
        pl.col("reference").mean(),
        pl.col("has_base").all(),
        *(pl.col(f"s_{f}").max() for f in FEATURES),
    )
    context = _context(days, spans.select("user", "episode", "start", "stop"), cfg)
    merged = spans.join(context, on=["user", "episode"], how="left").with_columns(
        pl.max_horizontal("s_job_search", pl.col("ctx_job").fill_null(0.0)).alias("s_job_search"),
        pl.max_horizontal("job", pl.col("ctx_hits").fill_null(0)).alias("job_hits"),
    )
    scored = merged.drop("ctx_job", "ctx_hits").with_columns(score_columns(cfg))
    keep = (pl.col("families") >= cfg.min_families) & (pl.col("score") >= cfg.min_score)
    return scored.filter(keep).sort(["score", "user", "start"], descending=[True, False, False])
