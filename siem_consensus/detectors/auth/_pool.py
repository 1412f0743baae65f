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
    """Replace the background findings by one ``background_guessing`` per (window, host); a
    finding on several hosts (one source enumerating a subnet) adds its rows to each host's."""
    kept: list[Finding] = []
    parts: dict[tuple[int | None, str | None], list[pl.DataFrame]] = {}
    kinds: dict[tuple[int | None, str | None], Counter[str]] = {}
    for finding in found:
        if finding.kind == "success_after_failures" or not is_background(finding.rows, cfg):
            kept.append(finding)
            continue
        by_host = finding.rows.partition_by("target", as_dict=True, maintain_order=True)
        for (host,), rows in by_host.items():
            key = (finding.window, host)
            parts.setdefault(key, []).append(rows)
            kinds.setdefault(key, Counter())[finding.kind] += 1
    for (window, _host), frames in parts.items():
        rows = pl.concat(frames).unique(_ROW, maintain_order=True)
        extra = {"pooled": dict(sorted(kinds[(window, _host)].items()))}
        kept.append(
            Finding("background_guessing", window, rows, rows["source_ip"].n_unique(), 1, extra)
        )
    return kept
