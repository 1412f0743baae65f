"""Internet background pooling: the background findings of one host and window become one
``background_guessing`` finding that lists every source.

A finding is *background* when none of its sources is internal, nothing in it succeeded and
every account it covers is unnamed, does not exist, or is one of the ``common_accounts``. An
internet-exposed SSH server sees dozens of such scanners a day; one incident per host and day
that names them (low or medium) is what a SOC can review, not one per scanner.
"""

from __future__ import annotations

from collections import Counter

import polars as pl

from ._config import AuthThresholds
from ._rules import Finding

__all__ = ["is_background", "pool_background"]

_ROW = ["window", "source_ip", "user_name", "target"]


def is_background(rows: pl.DataFrame, cfg: AuthThresholds) -> bool:
    """True when the rows are external, unsuccessful guessing on common or unknown names."""
    if int(rows["succ"].sum()) > 0:
        return False
    if any(cfg.is_internal(source) for source in rows["source_ip"].unique().to_list()):
        return False
    named = rows.filter(pl.col("user_name").is_not_null() & (pl.col("inv") == 0))
    return all(cfg.is_common(user) for user in named["user_name"].unique().to_list())


def pool_background(found: list[Finding], cfg: AuthThresholds) -> list[Finding]:
    """Replace the background findings by one ``background_guessing`` per (window, hosts)."""
    kept: list[Finding] = []
    groups: dict[tuple[int | None, tuple[str, ...]], list[Finding]] = {}
    for finding in found:
        if finding.kind == "success_after_failures" or not is_background(finding.rows, cfg):
            kept.append(finding)
            continue
        hosts = tuple(sorted(finding.rows["target"].drop_nulls().unique().to_list()))
        groups.setdefault((finding.window, hosts), []).append(finding)
    for (window, _hosts), members in groups.items():
        rows = pl.concat([f.rows for f in members]).unique(_ROW, maintain_order=True)
        sources = rows["source_ip"].n_unique()
        pooled = dict(sorted(Counter(f.kind for f in members).items()))
        extra = {"pooled": pooled}
        kept.append(Finding("background_guessing", window, rows, sources, 1, extra))
    return kept
