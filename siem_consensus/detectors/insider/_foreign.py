"""Acting on another user's machine or as another user: the insider detector's foreign counts.

A host's *owner* is its main user in the baseline (:func:`~._baseline.host_owners`); a sender
address's owner is the directory user with that e-mail address, else the user who sent most
mail from it in the baseline. Per user and day (every day, baseline included, so baselines
can tell routine from novelty):

* ``foreign_logon_n``: logons on hosts owned by another user (user X logging on to the PC
  of user Y). Routine for administrators and hot-deskers, which the baseline shows;
* ``foreign_media_n``: removable-media events on hosts owned by another user;
* ``host_mail_n``, ``as_other_n``: mails sent from a host owned by another user; mails sent
  with another user's sender address (logged on as someone else); ``foreign_mail_n`` the
  larger of the two.
"""

from __future__ import annotations

from datetime import date

import polars as pl

__all__ = ["foreign_counts", "sender_owners", "with_foreign"]

_COUNTS = ("foreign_logon_n", "foreign_media_n", "host_mail_n", "as_other_n", "foreign_mail_n")


def sender_owners(
    resources: pl.DataFrame, directory: pl.DataFrame | None, end: date
) -> pl.DataFrame:
    """``resource, owner``: who each sender address belongs to (lower case)."""
    senders = resources.filter((pl.col("kind") == "sender") & (pl.col("day") < end))
    learned = (
        senders.group_by("resource", "user").agg(pl.col("n").sum())
        .sort(["resource", "n", "user"], descending=[False, True, False])
        .group_by("resource", maintain_order=True).first()
        .select("resource", pl.col("user").str.to_lowercase().alias("owner"))
    )  # fmt: skip
    if directory is None or not {"email", "user_id"} <= set(directory.columns):
        return learned
    listed = directory.select(
        pl.col("email").cast(pl.String).str.strip_chars().str.to_lowercase().alias("resource"),
        pl.col("user_id").cast(pl.String).str.to_lowercase().alias("owner"),
    ).drop_nulls()
    known = listed.unique("resource", keep="first", maintain_order=True)
    return pl.concat([known, learned.join(known, on="resource", how="anti")])


def foreign_counts(
    hosts: pl.DataFrame, resources: pl.DataFrame, hosts_owned: pl.DataFrame,
    senders_owned: pl.DataFrame,
) -> pl.DataFrame:  # fmt: skip
    """``user, day`` and the foreign counts of the module docstring (zeros dropped)."""
    other = pl.col("owner").is_not_null() & (
        pl.col("owner").str.to_lowercase() != pl.col("user").str.to_lowercase()
    )
    on_hosts = (
        hosts.join(hosts_owned, on="host", how="left").filter(other)
        .group_by("user", "day").agg(
            pl.col("logons").sum().alias("foreign_logon_n"),
            pl.col("rm").sum().alias("foreign_media_n"),
            pl.col("mails").sum().alias("host_mail_n"),
        )
    )  # fmt: skip
    as_other = (
        resources.filter(pl.col("kind") == "sender")
        .join(senders_owned, on="resource", how="inner").filter(other)
        .group_by("user", "day").agg(pl.col("n").sum().alias("as_other_n"))
    )  # fmt: skip
    joined = on_hosts.join(as_other, on=["user", "day"], how="full", coalesce=True)
    return joined.select(
        "user", "day",
        pl.col("foreign_logon_n").fill_null(0), pl.col("foreign_media_n").fill_null(0),
        pl.col("host_mail_n").fill_null(0), pl.col("as_other_n").fill_null(0),
        pl.max_horizontal(pl.col("host_mail_n").fill_null(0), pl.col("as_other_n").fill_null(0))
        .alias("foreign_mail_n"),
    )  # fmt: skip


def with_foreign(daily: pl.DataFrame, counts: pl.DataFrame) -> pl.DataFrame:
    """The daily table with the foreign counts (0 where none)."""
    return daily.join(counts, on=["user", "day"], how="left").with_columns(
        pl.col(c).fill_null(0).cast(pl.Int64) for c in _COUNTS
    )
