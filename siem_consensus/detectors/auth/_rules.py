"""Detection rules and population baseline of the authentication detector.

Rules, per window (thresholds in :class:`AuthThresholds`; "account" means an account on one
target host):

* ``success_after_failures``: the first success of a (source, account) in the window comes
  after at least ``success_min_failures`` failures of that source (on any account), or after
  at least ``success_min_account_failures`` failures of that account (from any source).
  "Before" counts the failures of the same (source, account) before its first success, and
  those of the other rows whose last failure is at or before it; events without a timestamp
  count as before. A user who logs in, mistypes later and logs in again is not counted:
  failures after the first success of the day are not "before".
* ``account_brute_force``: one source, one account, at least ``brute_force_failures``
  failures; not raised for a (source, account) whose success already raised
  ``success_after_failures`` (that incident carries the failures).
* ``password_spraying``: one source fails on at least ``spray_min_accounts`` existing accounts
  with a median of at most ``spray_max_failures_per_account`` failures per account (a median,
  so that focusing on one account after the spray does not hide the spray).
* ``distributed_brute_force``: at least ``distributed_min_sources`` sources, each under
  ``brute_force_failures``, fail ``distributed_min_failures`` times or more on one account.
  Accounts that are ``common_accounts``, do not exist or are unnamed (Zeek) are pooled per
  host: internet background guessing on one exposed host is one incident per window listing
  its sources, not one per name it tried.
* ``user_enumeration``: one source tries at least ``enumeration_min_invalid_users`` distinct
  account names the server says do not exist.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ._config import AuthThresholds

__all__ = ["KINDS", "Finding", "Population", "breadth", "evaluate"]

KINDS = (
    "background_guessing",
    "success_after_failures",
    "account_brute_force",
    "password_spraying",
    "distributed_brute_force",
    "user_enumeration",
)
_SRC = ["window", "source_ip"]
_ACCT = ["window", "user_name", "target"]
_ROW = ["window", "source_ip", "user_name", "target"]
_POP = ("failures", "accounts", "sources", "invalid_users", "source_failures", "login_failures")


@dataclass(frozen=True)
class Finding:
    """One rule that fired: its kind, the window, the state rows it covers and its numbers.

    Attributes:
        kind: One of :data:`KINDS`.
        window: Window index (``None`` for events without a timestamp).
        rows: The state rows of the finding (see ``_state``).
        observed: The number the rule compared (failures, accounts, sources, names).
        threshold: What it was compared with.
        extra: Rule-specific facts (``via`` for a success: ``source``/``account``).
    """

    kind: str
    window: int | None
    rows: pl.DataFrame
    observed: float
    threshold: float
    extra: dict[str, Any] = field(default_factory=dict)


def _per_group(
    kind: str, hits: pl.DataFrame, keys: list[str], rows: pl.DataFrame, count: str, limit: float
) -> list[Finding]:
    """One finding per row of ``hits``, covering the ``rows`` of its group."""
    if hits.is_empty():
        return []
    mine = rows.join(hits.select(keys), on=keys, nulls_equal=True)
    parts = mine.partition_by(keys, as_dict=True, maintain_order=True)
    found = []
    for values in hits.select(*keys, count).iter_rows():
        key = tuple(values[:-1])
        found.append(Finding(kind, key[0], parts[key], values[-1], limit))
    return found


def _rows_of(rows: pl.DataFrame, keys: list[str], values: tuple[Any, ...]) -> pl.DataFrame:
    cond = pl.lit(True)
    for key, value in zip(keys, values, strict=True):
        cond &= pl.col(key).eq_missing(pl.lit(value, dtype=rows.schema[key]))
    return rows.filter(cond)


def _before(logins: pl.DataFrame, rows: pl.DataFrame, group: list[str], name: str) -> pl.DataFrame:
    """Per login (row with a success): failures in its ``group`` before its first success.

    The login row's own ``fb`` plus the failures of the group's other rows that all came before
    (``t_lf`` at or before the success; every row when either time is unknown).
    """
    others = (
        logins.select(*_ROW, "t_fs")
        .join(rows.select(*_ROW, "fails", "t_lf"), on=group, nulls_equal=True, suffix="_o")
        .filter(
            ~pl.all_horizontal(
                pl.col(k).eq_missing(pl.col(f"{k}_o")) for k in _ROW if k not in group
            )
        )
        .filter((pl.col("t_lf") <= pl.col("t_fs")).fill_null(True))
        .group_by(_ROW)
        .agg(pl.col("fails").sum().alias("_others"))
    )
    return (
        logins.join(others, on=_ROW, how="left", nulls_equal=True)
        .with_columns((pl.col("fb") + pl.col("_others").fill_null(0)).alias(name))
        .drop("_others")
    )


def _success(rows: pl.DataFrame, cfg: AuthThresholds) -> tuple[list[Finding], pl.DataFrame]:
    logins = rows.filter(pl.col("succ") > 0)
    logins = _before(logins, rows, _SRC, "src_before")
    logins = _before(logins, rows, _ACCT, "acct_before")
    wins = logins.with_columns(
        (pl.col("src_before") >= cfg.success_min_failures).alias("by_source"),
        (pl.col("acct_before") >= cfg.success_min_account_failures).alias("by_account"),
    ).filter(pl.col("by_source") | pl.col("by_account"))
    found = []
    for row in wins.iter_rows(named=True):
        key = tuple(row[k] for k in _ROW)
        parts = [_rows_of(rows, _SRC, key[:2])]
        if row["by_account"]:
            parts.append(_rows_of(rows, _ACCT, (key[0], key[2], key[3])))
        covered = pl.concat(parts).unique(_ROW, maintain_order=True)
        via = "source" if row["by_source"] else "account"
        observed = row["src_before"] if row["by_source"] else row["acct_before"]
        limit = cfg.success_min_failures if row["by_source"] else cfg.success_min_account_failures
        extra = {"via": via, "source_ip": key[1], "user_name": key[2], "target": key[3]}
        found.append(Finding("success_after_failures", key[0], covered, observed, limit, extra))
    absorbed = wins.filter(pl.col("by_source")).select(_ROW)
    return found, absorbed


def _brute_force(rows: pl.DataFrame, absorbed: pl.DataFrame, cfg: AuthThresholds) -> list[Finding]:
    hits = rows.filter(pl.col("fails") >= cfg.brute_force_failures).join(
        absorbed, on=_ROW, how="anti", nulls_equal=True
    )
    limit = cfg.brute_force_failures
    return [
        Finding("account_brute_force", hits["window"][i], hits[i : i + 1], hits["fails"][i], limit)
        for i in range(hits.height)
    ]


def _spraying(rows: pl.DataFrame, cfg: AuthThresholds) -> list[Finding]:
    valid = rows.filter(
        (pl.col("fails") > 0) & (pl.col("inv") == 0) & pl.col("user_name").is_not_null()
    )
    per_account = valid.group_by([*_SRC, "user_name", "target"]).agg(pl.col("fails").sum())
    per = per_account.group_by(_SRC).agg(
        pl.len().alias("accounts"), pl.col("fails").median().alias("median")
    )
    hits = per.filter(
        (pl.col("accounts") >= cfg.spray_min_accounts)
        & (pl.col("median") <= cfg.spray_max_failures_per_account)
    )
    return _per_group("password_spraying", hits, _SRC, valid, "accounts", cfg.spray_min_accounts)


def _distributed(rows: pl.DataFrame, cfg: AuthThresholds) -> list[Finding]:
    """Per site account; accounts that are common or do not exist pool per host (background)."""
    user = pl.col("user_name")
    common = (
        user.is_null()
        | (pl.col("inv") > 0)
        | user.str.to_lowercase().is_in(sorted(cfg.common_accounts))
    )
    under = rows.filter(
        (pl.col("fails") > 0) & (pl.col("fails") < cfg.brute_force_failures)
    ).with_columns(pl.when(common).then(pl.lit(None, pl.String)).otherwise(user).alias("_account"))
    keys = ["window", "_account", "target"]
    per = under.group_by(keys).agg(
        pl.col("source_ip").n_unique().alias("sources"), pl.col("fails").sum().alias("failures")
    )
    hits = per.filter(
        (pl.col("sources") >= cfg.distributed_min_sources)
        & (pl.col("failures") >= cfg.distributed_min_failures)
    )
    limit = cfg.distributed_min_sources
    found = _per_group("distributed_brute_force", hits, keys, under, "sources", limit)
    return [
        Finding(f.kind, f.window, f.rows.drop("_account"), f.observed, f.threshold, f.extra)
        for f in found
    ]


def _enumeration(rows: pl.DataFrame, cfg: AuthThresholds) -> list[Finding]:
    invalid = rows.filter((pl.col("inv") > 0) & pl.col("user_name").is_not_null())
    per = invalid.group_by(_SRC).agg(pl.col("user_name").n_unique().alias("names"))
    hits = per.filter(pl.col("names") >= cfg.enumeration_min_invalid_users)
    limit = cfg.enumeration_min_invalid_users
    return _per_group("user_enumeration", hits, _SRC, invalid, "names", limit)


def evaluate(rows: pl.DataFrame, cfg: AuthThresholds) -> list[Finding]:
    """Every finding of the closed windows in ``rows`` (state rows with a source address)."""
    if rows.is_empty():
        return []
    found, absorbed = _success(rows, cfg)
    found += _brute_force(rows, absorbed, cfg)
    found += _spraying(rows, cfg)
    found += _distributed(rows, cfg)
    found += _enumeration(rows, cfg)
    return found


@dataclass
class Population:
    """Running baseline over the input, in bounded memory (sums and sums of squares).

    * ``failures``: per (window, source, account) with a failure, its failures;
    * ``accounts``: per (window, source), the accounts it failed on;
    * ``sources``: per (window, account) with a failure, the sources that failed on it;
    * ``invalid_users``: per (window, source), the non-existent names it tried;
    * ``source_failures``: per (window, source), its failures;
    * ``login_failures``: per successful (window, source, account), the source's failures in
      the window (how many failures usually precede a login).

    ``keys`` counts (window, source) pairs.
    """

    keys: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_POP, 0))
    sums: dict[str, float] = field(default_factory=lambda: dict.fromkeys(_POP, 0.0))
    squares: dict[str, float] = field(default_factory=lambda: dict.fromkeys(_POP, 0.0))

    def add(self, rows: pl.DataFrame) -> None:
        """Fold the state rows of closed windows in."""
        if rows.is_empty():
            return
        failing = rows.filter(pl.col("fails") > 0)
        per_source = rows.group_by(_SRC).agg(
            pl.col("user_name").filter(pl.col("fails") > 0).n_unique().alias("accounts"),
            pl.col("user_name").filter(pl.col("inv") > 0).n_unique().alias("invalid_users"),
            pl.col("fails").sum().alias("source_failures"),
        )
        per_account = failing.group_by(_ACCT).agg(pl.col("source_ip").n_unique().alias("sources"))
        logins = rows.filter(pl.col("succ") > 0).join(
            per_source.select(*_SRC, "source_failures"), on=_SRC, nulls_equal=True
        )
        self.keys += per_source.height
        for name, series in (
            ("failures", failing["fails"]),
            ("accounts", per_source["accounts"]),
            ("invalid_users", per_source["invalid_users"]),
            ("source_failures", per_source["source_failures"]),
            ("sources", per_account["sources"]),
            ("login_failures", logins["source_failures"]),
        ):
            values = series.cast(pl.Float64)
            self.counts[name] += values.len()
            self.sums[name] += float(values.sum())
            self.squares[name] += float((values * values).sum())

    def summary(self) -> dict[str, Any]:
        """``keys`` and ``<name>_mean``/``<name>_std`` for every statistic."""
        out: dict[str, Any] = {"keys": self.keys}
        for name in _POP:
            count = self.counts[name]
            mean = self.sums[name] / count if count else 0.0
            var = self.squares[name] / count - mean * mean if count else 0.0
            out[f"{name}_mean"] = round(mean, 4)
            out[f"{name}_std"] = round(math.sqrt(max(var, 0.0)), 4)
        return out


def breadth(observed: float, threshold: float) -> float:
    """``min(1, log10(observed / threshold))``: 0 at the threshold, 1 at ten times it."""
    if observed <= threshold or threshold <= 0:
        return 0.0
    return min(1.0, math.log10(observed / threshold))
