"""Never-seen resources and hosts of the insider detector, and the capped volume reference.

A resource (file directory, web domain, mail domain) or host is *new* for a user on a
detection day when the user never used it in the baseline period and first used it at most
``novelty_days`` days earlier. So touching a directory once after the baseline does not make
a mass download from it a week later look familiar (a poisoning guard), while a resource used
for weeks stops being new. A new resource is *outside the peers* when no other user of the
same peer group (department, else role, else the whole organisation) used it in the baseline.

A new host is *foreign* when another user was its main user in the baseline.

Volume reference (the poisoning guard of the volume feature): for each detection day, the
trailing median of the user's daily bytes over the previous ``trailing_days`` days, clamped
between the baseline median and the baseline median grown by ``volume_growth_per_week`` per
week since the baseline ended, and never under ``volume_floor_bytes``. A user ramping their
volume up every day therefore keeps being compared with (almost) the baseline.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from ._config import InsiderThresholds

__all__ = [
    "host_counts",
    "new_hosts",
    "new_resources",
    "novelty_counts",
    "volume_reference",
    "with_trailing",
]

_RES_KEY = ("user", "kind", "resource")


def _new_rows(
    table: pl.DataFrame, key: tuple[str, ...], end: date, cfg: InsiderThresholds
) -> pl.DataFrame:
    """Rows of detection days whose key the user never used in the baseline, first used at
    most ``novelty_days`` before, with the column ``first_day``."""
    known = table.filter(pl.col("day") < end).select(key).unique()
    later = table.filter(pl.col("day") >= end).join(known, on=list(key), how="anti")
    firsts = later.group_by(key).agg(pl.col("day").min().alias("first_day"))
    fresh = pl.col("day") - pl.col("first_day") < timedelta(days=cfg.novelty_days)
    return later.join(firsts, on=list(key)).filter(fresh)


def new_resources(
    classified: pl.DataFrame, people: pl.DataFrame, end: date, cfg: InsiderThresholds
) -> pl.DataFrame:
    """Never-seen resources per user and detection day, with the boolean ``outside``.

    Unresolvable resources (``?``: no domain, ``.``: no directory) are never new.
    """
    rows = classified.filter(~pl.col("resource").is_in(pl.Series(["?", "."]).implode()))
    novel = _new_rows(rows, _RES_KEY, end, cfg)
    groups = people.select("user", "group")
    peer_use = (
        rows.filter(pl.col("day") < end)
        .join(groups, on="user")
        .group_by("group", "kind", "resource")
        .agg(pl.col("user").unique().alias("peer_users"))
    )
    outside = pl.col("peer_users").list.set_difference(pl.concat_list("user")).list.len() == 0
    return (
        novel.join(groups, on="user", how="left")
        .join(peer_use, on=["group", "kind", "resource"], how="left")
        .with_columns(outside.fill_null(True).alias("outside"))
        .drop("peer_users")
    )


def novelty_counts(novel: pl.DataFrame) -> pl.DataFrame:
    """Per user and day: ``new_n``, ``new_bytes``, ``new_dl``, ``new_events``, ``outside_n``."""
    return novel.group_by("user", "day").agg(
        pl.len().cast(pl.Int64).alias("new_n"),
        pl.col("bytes").sum().alias("new_bytes"),
        pl.col("dl").sum().alias("new_dl"),
        pl.col("n").sum().alias("new_events"),
        pl.col("outside").sum().cast(pl.Int64).alias("outside_n"),
    )


def new_hosts(
    hosts: pl.DataFrame, owners: pl.DataFrame, end: date, cfg: InsiderThresholds
) -> pl.DataFrame:
    """Never-used hosts per user and detection day, with the boolean ``foreign``."""
    novel = _new_rows(hosts, ("user", "host"), end, cfg)
    foreign = pl.col("owner").is_not_null() & (pl.col("owner") != pl.col("user"))
    return novel.join(owners, on="host", how="left").with_columns(foreign.alias("foreign"))


def host_counts(novel_hosts: pl.DataFrame) -> pl.DataFrame:
    """Per user and day: ``new_hosts_n`` and ``foreign_n``."""
    return novel_hosts.group_by("user", "day").agg(
        pl.len().cast(pl.Int64).alias("new_hosts_n"),
        pl.col("foreign").sum().cast(pl.Int64).alias("foreign_n"),
    )


def volume_reference(end: date, cfg: InsiderThresholds) -> pl.Expr:
    """Expression of the capped reference; needs ``trailing`` and ``vol_median`` columns.

    ``trailing`` comes from :func:`with_trailing`.
    """
    weeks = (pl.col("day") - pl.lit(end)).dt.total_days().clip(lower_bound=0) / 7.0
    base = pl.col("vol_median").cast(pl.Float64)
    cap = base * (1.0 + cfg.volume_growth_per_week) ** weeks
    trailing = pl.col("trailing").fill_null(base)
    ref = pl.min_horizontal(pl.max_horizontal(trailing, base), cap)
    return pl.max_horizontal(ref, pl.lit(float(cfg.volume_floor_bytes)))


def with_trailing(daily: pl.DataFrame, cfg: InsiderThresholds) -> pl.DataFrame:
    """Add ``trailing``: the median daily bytes of the user's previous ``trailing_days``."""
    median = (
        pl.col("bytes")
        .cast(pl.Float64)
        .rolling_median_by("day", window_size=f"{cfg.trailing_days}d", closed="left")
        .over("user")
    )
    return daily.sort("user", "day").with_columns(median.alias("trailing"))
