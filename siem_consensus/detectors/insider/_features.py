"""Per-user, per-day features of the insider detector and the score formula.

Each feature has a strength ``s_<name>`` in [0, 1], 0 when it does not fire (defaults in
:class:`InsiderThresholds`; "baseline" means the user's own baseline, see
:mod:`._baseline`; users without one get only the features marked *absolute*):

* ``volume``: daily bytes >= ``volume_ratio`` x the capped reference (:mod:`._novelty`)
  and >= ``volume_min_bytes``; s = 0.5 + 0.5 log(ratio / volume_ratio) / log(volume_full_ratio
  / volume_ratio), clipped, halved when the day is within 3 standard deviations of the peer
  group's baseline days (it is what peers do).
* ``downloads`` (absolute): more than ``downloads_min`` and ``downloads_ratio`` x the baseline
  90th percentile; s = 0.5 + 0.5 log10(downloads / downloads_min), clipped.
* ``new_resources``: at least ``new_resources_min`` never-seen resources and more than
  ``new_resources_ratio`` x the baseline churn, or never-seen resources carrying
  ``new_resource_share`` of the day's bytes or downloads; s = the largest of that share and
  count / (2 new_resources_min), at least 0.5.
* ``outside_peers``: ``new_resources`` fired and some new resource was used by no peer.
* ``new_hosts``: a never-used host, for users with at most ``roaming_hosts`` baseline hosts.
* ``off_hours``: at least ``off_hours_share`` of the events (and ``off_hours_min_events``)
  outside the usual hours (absolute hours without a baseline); s = the share.
* ``removable_media_first_time``: removable media on a day, none in the baseline.
* ``removable_media_spike`` (absolute): at least ``removable_min_events`` and
  ``removable_ratio`` x the baseline daily mean.
* ``cloud_upload`` (absolute), ``external_attachments`` (absolute): at least the minimum
  and over ``count_ratio`` x the baseline 90th percentile; attachments to a personal mail
  domain give s = 1, else 0.7.
* ``competitor_contact``, ``job_search``, ``admin_tools``, ``spy_tools`` (absolute): any,
  for users who had them on at most ``rare_share`` of baseline days (admin tools are
  ``admin_tool_pattern`` matches, spy tools keyloggers and credential dumpers).
* ``foreign_hosts``: at least ``foreign_hosts_min`` never-used hosts of other users, and
  ``foreign_hosts_ratio`` x the baseline 90th percentile of daily hosts.
* ``after_hours_first``: a logon outside the absolute working hours (``work_start_hour`` to
  ``work_end_hour``) by a user who never logged on after hours in the baseline, on a day
  when ``off_hours`` does not fire (both are timing; a shifted day is ``off_hours`` alone).
* ``leak_site`` (absolute): requests to a leak site (WikiLeaks, Cryptome, ...; the ``leak``
  category of ``sites.json``), for users who went there on at most ``rare_share`` of
  baseline days. Any request counts: CERT r4.2 logs visits, not uploads.
* ``foreign_media``: removable media on another user's machine, never in the baseline.
* ``foreign_logon``: a logon on another user's machine, for users who did so on at most
  ``rare_share`` of baseline days (administrators do it daily: never for them).
* ``foreign_mail``: a mail sent with another user's sender address, or, by a user who logs on
  to other users' machines routinely (an administrator), from another user's machine; never
  in the baseline. A hot-desker mailing from a colleague's PC is ``foreign_logon`` alone.
* ``mass_email`` (absolute): one mail with at least ``mass_email_min`` recipients and over
  ``mass_email_ratio`` x the user's largest baseline mail.
* ``leaver``: the directory says the user left within ``leaver_window_days`` after the day.

Score (0-1): sum over families of ``min(family_cap, sum of weight x s)``; with fewer than
``high_families`` families fired it is capped at ``max_score_uncorroborated``. Job search and
leaving are *intent* context: they never make a day suspicious on their own.
"""

from __future__ import annotations

import math
from datetime import date

import polars as pl

from ._config import FAMILIES, InsiderThresholds
from ._novelty import volume_reference
from ._state import HOURS

__all__ = ["CONTEXT", "FEATURES", "day_features", "score_columns"]

FEATURES = tuple(FAMILIES)
"""Feature names in score order."""

CONTEXT = frozenset({"job_search", "leaver"})
"""Intent features: they add to a suspicious day's score but never make a day suspicious."""


def _clip(expr: pl.Expr) -> pl.Expr:
    return expr.clip(lower_bound=0.0, upper_bound=1.0)


def _log_strength(value: pl.Expr, threshold: pl.Expr | float, full: float) -> pl.Expr:
    """0.5 at the threshold, 1 at ``full`` times it (logarithmic), clipped."""
    span = math.log(full)
    return 0.5 + 0.5 * _clip((value / threshold).log() / span)


def _off_hours(cfg: InsiderThresholds) -> pl.Expr:
    """Events outside ``[usual_start, usual_end)`` (absolute hours without a baseline)."""
    start = pl.col("usual_start").fill_null(cfg.work_start_hour)
    length = pl.col("usual_end").fill_null(cfg.work_end_hour) - start
    return pl.sum_horizontal(
        *(
            pl.when((pl.lit(h) - start) % 24 < length).then(0).otherwise(pl.col(HOURS[h]))
            for h in range(24)
        )
    )


def _measures(end: date, cfg: InsiderThresholds) -> list[pl.Expr]:
    ref = volume_reference(end, cfg)
    peer_z = (pl.col("bytes") - pl.col("peer_mean")) / pl.col("peer_std")
    return [
        ref.alias("reference"),
        (pl.col("bytes") / ref).alias("ratio"),
        pl.when(pl.col("peer_std") > 0).then(peer_z).alias("peer_z"),
        _off_hours(cfg).alias("off_n"),
        pl.col("base_days").fill_null(0).ge(cfg.min_baseline_days).alias("has_base"),
    ]


def _volume(cfg: InsiderThresholds) -> pl.Expr:
    fired = (
        pl.col("has_base")
        & (pl.col("ratio") >= cfg.volume_ratio)
        & (pl.col("bytes") >= cfg.volume_min_bytes)
    )
    strength = _log_strength(pl.col("ratio"), cfg.volume_ratio, cfg.volume_full_ratio / 10)
    usual_for_peers = (pl.col("peer_users") >= 3) & (pl.col("peer_z") < 3)
    strength = pl.when(usual_for_peers.fill_null(False)).then(strength / 2).otherwise(strength)
    return pl.when(fired).then(strength).otherwise(0.0)


def _new_resources(cfg: InsiderThresholds) -> pl.Expr:
    new_n, share = pl.col("new_n"), cfg.new_resource_share
    byte_share = pl.col("new_bytes") / pl.col("bytes")
    dl_share = pl.col("new_dl") / pl.col("dl")
    many = (new_n >= cfg.new_resources_min) & (new_n > cfg.new_resources_ratio * pl.col("churn"))
    heavy = (byte_share >= share) & (pl.col("new_bytes") >= cfg.volume_min_bytes)
    fetched = (dl_share >= share) & (pl.col("new_dl") > cfg.downloads_min)
    fired = pl.col("has_base") & (many | heavy.fill_null(False) | fetched.fill_null(False))
    strength = pl.max_horizontal(
        pl.lit(0.5), new_n / (2 * cfg.new_resources_min), byte_share.fill_nan(0.0),
        dl_share.fill_nan(0.0),
    )  # fmt: skip
    return pl.when(fired).then(_clip(strength)).otherwise(0.0)


def _rare(count: str, share: str, cfg: InsiderThresholds) -> pl.Expr:
    fired = (pl.col(count) > 0) & (pl.col(share).fill_null(0.0) <= cfg.rare_share)
    return pl.when(fired).then(1.0).otherwise(0.0)


def _over(count: str, minimum: int, base: pl.Expr, ratio: float) -> pl.Expr:
    return (pl.col(count) >= minimum) & (pl.col(count) > ratio * base.fill_null(0.0))


def _counted(cfg: InsiderThresholds) -> dict[str, pl.Expr]:
    """The count-against-baseline rules."""
    return {
        "downloads": _over("dl", cfg.downloads_min + 1, pl.col("dl_p90"), cfg.downloads_ratio),
        "removable_media_spike": _over(
            "rm", cfg.removable_min_events, pl.col("rm_mean"), cfg.removable_ratio
        ),
        "external_attachments": _over(
            "ext_attach", cfg.external_attachments_min, pl.col("attach_p90"), cfg.count_ratio
        ),
        "foreign_hosts": _over(
            "foreign_n", cfg.foreign_hosts_min, pl.col("hosts_p90"), cfg.foreign_hosts_ratio
        ),
        "cloud_upload": _over(
            "cloud_up", cfg.cloud_uploads_min, pl.col("cloud_p90"), cfg.count_ratio
        ),
    }


def _strengths(cfg: InsiderThresholds) -> dict[str, pl.Expr]:
    has = pl.col("has_base")
    counted = _counted(cfg)
    dl, attach = counted["downloads"], counted["external_attachments"]
    off_share = pl.col("off_n") / pl.col("n")
    off = (off_share >= cfg.off_hours_share) & (pl.col("off_n") >= cfg.off_hours_min_events)
    left = (pl.col("left_on") - pl.col("day")).dt.total_days()
    hopper = pl.col("foreign_logon_share").fill_null(0.0) > cfg.rare_share
    flags = {
        "downloads": pl.when(dl).then(_log_strength(pl.col("dl"), cfg.downloads_min, 10.0)),
        "outside_peers": (pl.col("outside_n") > 0) & (pl.col("peer_users") > 1),
        "new_hosts": has & (pl.col("new_hosts_n") >= cfg.new_hosts_min)
        & (pl.col("base_hosts") <= cfg.roaming_hosts),
        "off_hours": pl.when(off).then(off_share),
        "removable_media_first_time": has & (pl.col("rm") > 0) & (pl.col("rm_days") == 0),
        "removable_media_spike": counted["removable_media_spike"],
        "cloud_upload": counted["cloud_upload"],
        "external_attachments": pl.when(attach)
        .then(pl.when(pl.col("personal_attach") > 0).then(1.0).otherwise(0.7)),
        "foreign_hosts": has & counted["foreign_hosts"],
        "after_hours_first": has & (pl.col("logon_off") > 0)
        & (pl.col("logon_off_days").fill_null(0) == 0),
        "foreign_media": has & (pl.col("foreign_media_n") > 0)
        & (pl.col("foreign_media_days").fill_null(0) == 0),
        "foreign_logon": has & (pl.col("foreign_logon_n") > 0) & ~hopper,
        "foreign_mail": has & (pl.col("foreign_mail_days").fill_null(0) == 0)
        & ((pl.col("as_other_n") > 0) | ((pl.col("host_mail_n") > 0) & hopper)),
        "mass_email": (pl.col("rcpt_max") >= cfg.mass_email_min)
        & (pl.col("rcpt_max") > cfg.mass_email_ratio * pl.col("rcpt_base").fill_null(0)),
        "leaver": pl.col("left_company").fill_null(False)
        & left.is_between(0, cfg.leaver_window_days),
    }  # fmt: skip
    out = {name: _as_strength(expr) for name, expr in flags.items()}
    out["volume"] = _volume(cfg)
    out["new_resources"] = _new_resources(cfg)
    out["outside_peers"] = (
        pl.when(out["new_resources"] > 0).then(out["outside_peers"]).otherwise(0.0)
    )
    out["competitor_contact"] = _rare("competitor", "competitor_share", cfg)
    out["job_search"] = _rare("job", "job_share", cfg)
    out["admin_tools"] = _rare("tool", "tool_share", cfg)
    out["spy_tools"] = _rare("spy", "spy_share", cfg)
    out["leak_site"] = _rare("leak_n", "leak_share", cfg)
    out["after_hours_first"] = (
        pl.when(out["off_hours"] > 0).then(0.0).otherwise(out["after_hours_first"])
    )
    return out


def _as_strength(expr: pl.Expr) -> pl.Expr:
    """Booleans become 1/0, missing values 0."""
    return expr.cast(pl.Float64).fill_null(0.0).fill_nan(0.0)


def score_columns(cfg: InsiderThresholds) -> list[pl.Expr]:
    """``score``, ``families`` and ``features`` (names) from the ``s_<feature>`` columns."""
    families: dict[str, list[str]] = {}
    for feature, family in FAMILIES.items():
        families.setdefault(family, []).append(feature)
    parts = [
        pl.min_horizontal(
            pl.lit(cfg.family_cap), pl.sum_horizontal(cfg.weight(f) * pl.col(f"s_{f}") for f in fs)
        )
        for fs in families.values()
    ]
    fired = pl.sum_horizontal(
        pl.max_horizontal(*(pl.col(f"s_{f}") > 0 for f in fs)).cast(pl.Int32)
        for fs in families.values()
    )
    raw = _clip(pl.sum_horizontal(parts))
    capped = (
        pl.when(fired < cfg.high_families)
        .then(pl.min_horizontal(raw, pl.lit(cfg.max_score_uncorroborated)))
        .otherwise(raw)
    )
    names = pl.concat_list(
        pl.when(pl.col(f"s_{f}") > 0).then(pl.lit(f)).otherwise(pl.lit(None, pl.String))
        for f in FEATURES
    ).list.drop_nulls()
    return [capped.round(4).alias("score"), fired.alias("families"), names.alias("features")]


def day_features(frame: pl.DataFrame, end: date, cfg: InsiderThresholds) -> pl.DataFrame:
    """Add measures, ``s_<feature>`` strengths, score and ``suspicious`` to detection days.

    ``frame`` is the daily table joined with baselines, peers, the directory, and the novelty
    and host counts (missing counts null).
    """
    counts = (
        "new_n", "new_bytes", "new_dl", "new_events", "outside_n", "new_hosts_n", "foreign_n",
        "rcpt_max",
    )  # fmt: skip
    measured = (
        frame.filter(pl.col("day") >= end)
        .with_columns(pl.col(c).fill_null(0) for c in counts)
        .with_columns(_measures(end, cfg))
    )
    strengths = _strengths(cfg)
    scored = measured.with_columns(
        _as_strength(strengths[f]).alias(f"s_{f}") for f in FEATURES
    ).with_columns(score_columns(cfg))
    trigger = pl.max_horizontal(*(pl.col(f"s_{f}") > 0 for f in FEATURES if f not in CONTEXT))
    return scored.with_columns(trigger.alias("suspicious"))
