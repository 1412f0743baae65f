"""Baselines of the insider detector: what each user, and their peers, did before.

The baseline period is the first ``baseline_days`` days of the input (from its earliest day;
at most ``max_baseline_share`` of the input's days) or everything before ``baseline_until``.
Only that period builds the baselines: a user's
usual hours, hosts, resources and daily medians, and the peers' resources and volumes (peers:
the same department in the directory, else the whole organisation). Later days never enter
them; the only later update is the capped volume reference of :mod:`._features`.

Per user (table :func:`user_baselines`): ``base_days`` (active baseline days), ``vol_median``
and ``vol_mad`` of daily bytes, 90th percentiles of daily downloads (``dl_p90``), cloud
uploads (``cloud_p90``), external attachment mails (``attach_p90``) and distinct hosts
(``hosts_p90``), the daily mean of removable-media events (``rm_mean``) and the days with any
(``rm_days``), the share of days with job-search, competitor, admin-tool, spy-tool and
leak-site activity and with logons on other users' machines (``foreign_logon_share``), the
days with after-hours logons (``logon_off_days``), with removable media or mail on other
users' machines (``foreign_media_days``, ``foreign_mail_days``), the most recipients of one
mail (``rcpt_base``), the number of baseline hosts, the ``churn`` (resources first used per
active day in the second half of the baseline: the ordinary rate of novelty) and the usual
hours ``[start, end)``.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from ._config import InsiderThresholds
from ._state import HOURS

__all__ = [
    "baseline_end",
    "daily_counts",
    "directory_frame",
    "host_owners",
    "peer_stats",
    "usual_hours",
    "user_baselines",
]


def baseline_end(days: pl.DataFrame, cfg: InsiderThresholds) -> date:
    """First day of the detection period."""
    if cfg.baseline_until is not None:
        return cfg.baseline_until
    first, last = days["day"].min(), days["day"].max()
    if not isinstance(first, date) or not isinstance(last, date):
        raise ValueError("no dated events: the baseline needs timestamps")
    span = (last - first).days + 1
    length = min(cfg.baseline_days, max(1, int(span * cfg.max_baseline_share)))
    return first + timedelta(days=length)


def daily_counts(days: pl.DataFrame, classified: pl.DataFrame, hosts: pl.DataFrame) -> pl.DataFrame:
    """The ``days`` table plus per-day category counts and distinct hosts."""
    n, up, attach = pl.col("n"), pl.col("up"), pl.col("attach")
    cats = classified.group_by("user", "day").agg(
        up.filter(pl.col("cloud")).sum().alias("cloud_up"),
        n.filter(pl.col("cloud")).sum().alias("cloud_n"),
        n.filter(pl.col("leak")).sum().alias("leak_n"),
        n.filter(pl.col("competitor")).sum().alias("competitor"),
        attach.filter(pl.col("external")).sum().alias("ext_attach"),
        attach.filter(pl.col("personal")).sum().alias("personal_attach"),
    )
    host_n = hosts.group_by("user", "day").agg(pl.len().cast(pl.Int64).alias("hosts_n"))
    columns = ("cloud_up", "cloud_n", "leak_n", "competitor", "ext_attach", "personal_attach")
    return (
        days.join(cats, on=["user", "day"], how="left")
        .join(host_n, on=["user", "day"], how="left")
        .with_columns(pl.col(c).fill_null(0).cast(pl.Int64) for c in (*columns, "hosts_n"))
        .sort("user", "day")
    )


def usual_hours(histogram: list[int], coverage: float) -> tuple[int, int]:
    """Shortest circular span ``[start, end)`` of hours holding ``coverage`` of the events.

    ``end`` may exceed 24 for spans across midnight (``[22, 30)`` is 22:00-06:00); ties go to
    the earliest start. An empty histogram gives the whole day.
    """
    total = sum(histogram)
    if total <= 0:
        return (0, 24)
    need = coverage * total - 1e-9
    for length in range(1, 25):
        best: tuple[int, int] | None = None
        for start in range(24):
            held = sum(histogram[(start + k) % 24] for k in range(length))
            if held >= need and (best is None or held > best[1]):
                best = (start, held)
        if best is not None:
            return (best[0], best[0] + length)
    return (0, 24)


def user_baselines(
    daily: pl.DataFrame, resources: pl.DataFrame, hosts: pl.DataFrame, end: date,
    cfg: InsiderThresholds,
) -> pl.DataFrame:  # fmt: skip
    """One row per user with a baseline (see the module docstring for the columns)."""
    base = daily.filter(pl.col("day") < end)
    b = pl.col("bytes")
    table = base.group_by("user").agg(
        pl.len().cast(pl.Int64).alias("base_days"),
        b.median().alias("vol_median"),
        (b - b.median()).abs().median().alias("vol_mad"),
        *(pl.col(c).quantile(0.9).alias(f"{n}_p90") for c, n in _P90.items()),
        pl.col("rm").mean().alias("rm_mean"),
        (pl.col("rm") > 0).sum().cast(pl.Int64).alias("rm_days"),
        (pl.col("job") > 0).mean().alias("job_share"),
        (pl.col("competitor") > 0).mean().alias("competitor_share"),
        (pl.col("tool") > 0).mean().alias("tool_share"),
        (pl.col("spy") > 0).mean().alias("spy_share"),
        (pl.col("leak_n") > 0).mean().alias("leak_share"),
        (pl.col("logon_off") > 0).sum().cast(pl.Int64).alias("logon_off_days"),
        pl.col("rcpt_max").fill_null(0).max().alias("rcpt_base"),
        (pl.col("foreign_logon_n") > 0).mean().alias("foreign_logon_share"),
        (pl.col("foreign_media_n") > 0).sum().cast(pl.Int64).alias("foreign_media_days"),
        (pl.col("foreign_mail_n") > 0).sum().cast(pl.Int64).alias("foreign_mail_days"),
        *(pl.col(h).sum() for h in HOURS),
        pl.col("day").min().alias("first_day"),
    )
    known_hosts = (
        hosts.filter(pl.col("day") < end).group_by("user")
        .agg(pl.col("host").n_unique().cast(pl.Int64).alias("base_hosts"))
    )  # fmt: skip
    windows = [
        usual_hours([row[h] for h in HOURS], cfg.usual_hours_coverage)
        for row in table.select(HOURS).iter_rows(named=True)
    ]
    return (
        table.with_columns(
            pl.Series("usual_start", [w[0] for w in windows], pl.Int64),
            pl.Series("usual_end", [w[1] for w in windows], pl.Int64),
        )
        .drop(HOURS)
        .join(known_hosts, on="user", how="left")
        .join(_churn(daily, resources, end), on="user", how="left")
        .with_columns(pl.col("base_hosts", "churn").fill_null(0))
    )


_P90 = {"dl": "dl", "cloud_up": "cloud", "ext_attach": "attach", "hosts_n": "hosts"}


def _churn(daily: pl.DataFrame, resources: pl.DataFrame, end: date) -> pl.DataFrame:
    """Resources first used per active day over the second half of each user's baseline."""
    base = daily.filter(pl.col("day") < end)
    first = base.group_by("user").agg(pl.col("day").min().alias("first_day"))
    mid = pl.col("first_day") + (pl.lit(end) - pl.col("first_day")) / 2
    firsts = (
        resources.filter(pl.col("day") < end)
        .group_by("user", "kind", "resource").agg(pl.col("day").min().alias("day"))
        .join(first, on="user").filter(pl.col("day") >= mid)
        .group_by("user").agg(pl.len().alias("firsts"))
    )  # fmt: skip
    active = (
        base.join(first, on="user").filter(pl.col("day") >= mid)
        .group_by("user").agg(pl.len().alias("active"))
    )  # fmt: skip
    return active.join(firsts, on="user", how="left").select(
        "user", (pl.col("firsts").fill_null(0) / pl.col("active")).alias("churn")
    )


def host_owners(hosts: pl.DataFrame, end: date) -> pl.DataFrame:
    """``host, owner``: the user with the most logons (then events) on each baseline host."""
    return (
        hosts.filter(pl.col("day") < end)
        .group_by("host", "user").agg(pl.col("logons").sum(), pl.col("n").sum())
        .sort(["host", "logons", "n", "user"], descending=[False, True, True, False])
        .group_by("host", maintain_order=True).first()
        .select("host", pl.col("user").alias("owner"))
    )  # fmt: skip


def directory_frame(directory: pl.DataFrame | None, users: pl.Series) -> pl.DataFrame:
    """``user, role, department, group, left_company, left_on`` for every user of the input.

    Users match the directory's ``user_id`` or the local part of its ``email``,
    case-insensitively. ``group`` (the peer group) is the department, else the role, else
    ``*``. A user left when their ``last_month`` is before the directory's latest one;
    ``left_on`` is the last day of that month. Without a directory both are None.
    """
    frame = pl.DataFrame({"user": users.unique().sort()})
    if directory is None or directory.is_empty():
        return frame.with_columns(
            pl.lit(None, pl.String).alias("role"), pl.lit(None, pl.String).alias("department"),
            pl.lit("*").alias("group"), pl.lit(None, pl.Boolean).alias("left_company"),
            pl.lit(None, pl.Date).alias("left_on"),
        )  # fmt: skip
    found = frame.with_columns(pl.col("user").str.to_lowercase().alias("key")).join(
        _directory_keys(directory), on="key", how="left"
    )
    return found.select(
        "user", "role", "department",
        pl.coalesce("department", "role", pl.lit("*")).alias("group"),
        "left_company", "left_on",
    )  # fmt: skip


def _col(directory: pl.DataFrame, name: str) -> pl.Expr:
    if name in directory.columns:
        return pl.col(name).cast(pl.String)
    return pl.lit(None, pl.String)


def _directory_keys(directory: pl.DataFrame) -> pl.DataFrame:
    month = _col(directory, "last_month").str.slice(0, 7)
    latest = month.max()
    month_start = (month + "-01").str.to_date("%Y-%m-%d", strict=False)
    info = directory.select(
        _col(directory, "user_id").str.to_lowercase().alias("uid"),
        _col(directory, "email").str.to_lowercase().str.extract(r"^([^@]+)@", 1).alias("local"),
        _col(directory, "role").alias("role"),
        _col(directory, "department").alias("department"),
        (month < latest).alias("left_company"),
        pl.when(month < latest).then(month_start.dt.month_end()).alias("left_on"),
    )
    keys = pl.concat(
        [info.rename({"uid": "key"}).drop("local"), info.rename({"local": "key"}).drop("uid")]
    )
    return keys.filter(pl.col("key").is_not_null()).unique("key", keep="first", maintain_order=True)


def peer_stats(daily: pl.DataFrame, people: pl.DataFrame, end: date) -> pl.DataFrame:
    """``group, peer_median, peer_mean, peer_std, peer_users``: baseline daily bytes per group."""
    base = daily.filter(pl.col("day") < end).join(people.select("user", "group"), on="user")
    return base.group_by("group").agg(
        pl.col("bytes").median().alias("peer_median"),
        pl.col("bytes").mean().alias("peer_mean"),
        pl.col("bytes").std().fill_null(0.0).alias("peer_std"),
        pl.col("user").n_unique().alias("peer_users"),
    )
