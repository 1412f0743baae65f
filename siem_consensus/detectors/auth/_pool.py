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
    return bool(_background([rows], cfg)[0])


def _background(frames: list[pl.DataFrame], cfg: AuthThresholds) -> list[bool]:
    """:func:`is_background` of each frame, read in one pass over all of them (a frame
    without rows is background: nothing in it is internal, succeeded or named)."""
    if not frames:
        return []
    columns = ["source_ip", "user_name", "inv", "succ"]
    tagged = _stacked([frame.select(columns) for frame in frames], "_i")
    named = pl.col("user_name").is_not_null() & (pl.col("inv") == 0)
    names = tagged.filter(named)["user_name"].unique().to_list()
    uncommon = pl.Series([u for u in names if not cfg.is_common(u)], dtype=pl.String)
    internal = _internal_sources(tagged["source_ip"], cfg)
    verdicts = tagged.group_by("_i").agg(
        (pl.col("succ").sum() == 0)
        & ~pl.col("source_ip").is_in(internal.implode()).any()
        & ~(named & pl.col("user_name").is_in(uncommon.implode())).any()
    )
    judged = dict(verdicts.iter_rows())
    return [bool(judged.get(i, True)) for i in range(len(frames))]


def _stacked(frames: list[pl.DataFrame], name: str) -> pl.DataFrame:
    """The frames one under another, with column ``name``: the index of each row's frame.

    One concatenation and one index column, instead of a column added to every frame (a
    million lines make thousands of findings)."""
    heights = pl.DataFrame({name: range(len(frames)), "h": [f.height for f in frames]})
    index = heights.filter(pl.col("h") > 0).select(pl.col(name).repeat_by("h").explode())
    return pl.concat(frames, how="vertical").with_columns(index.to_series().cast(pl.Int64))


def _internal_sources(sources: pl.Series, cfg: AuthThresholds) -> pl.Series:
    """The distinct internal addresses among ``sources``."""
    distinct = sources.drop_nulls().unique().to_list()
    return pl.Series([s for s in distinct if cfg.is_internal(s)], dtype=pl.String)


def pool_background(found: list[Finding], cfg: AuthThresholds) -> list[Finding]:
    """Replace the background findings by one ``background_guessing`` per (window, host); a
    finding on several hosts (one source enumerating a subnet) adds its rows to each host's.

    A host's rows are those of its findings in their order, each distinct ``_ROW`` once (the
    first); the hosts come in the order the findings first name them. Computed over all the
    background findings at once rather than host by host.
    """
    judged = [f for f in found if f.kind != "success_after_failures"]
    verdicts = dict(zip(map(id, judged), _background([f.rows for f in judged], cfg), strict=True))
    kept: list[Finding] = []
    background: list[Finding] = []
    for finding in found:
        (background if verdicts.get(id(finding), False) else kept).append(finding)
    if not background:
        return kept
    windows = pl.Series("_window", [f.window for f in background], dtype=pl.Int64)
    tagged = _stacked([f.rows for f in background], "_finding")
    tagged = tagged.with_columns(windows.gather(tagged["_finding"]))
    kinds: dict[tuple[int | None, str | None], Counter[str]] = {}
    pairs = tagged.select("_finding", "_window", "target").unique(maintain_order=True)
    for index, window, host in pairs.iter_rows():
        kinds.setdefault((window, host), Counter())[background[index].kind] += 1
    rows_of = (
        tagged.unique(["_window", *_ROW], maintain_order=True)
        .drop("_finding")
        .partition_by(["_window", "target"], as_dict=True, maintain_order=True)
    )
    for (window, host), rows in rows_of.items():
        key = (window if window is None else int(window), host if host is None else str(host))
        extra = {"pooled": dict(sorted(kinds[key].items()))}
        rows = rows.drop("_window")
        kept.append(
            Finding("background_guessing", key[0], rows, rows["source_ip"].n_unique(), 1, extra)
        )
    return kept
