"""The throughput shortcuts give what the plain computations they replace give.

* ASA headers parsed once per run of equal headers (``_with_headers``) = a join of every row
  on its header text;
* the firewall merges' single sort on ``(key hash, order)`` = a stable sort on ``order`` then
  a stable sort on the hash;
* the auth state merge passing keys on one row through = grouping every row;
* auth background pooling over all findings at once = judging and pooling host by host.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from siem_consensus.detectors.auth import AuthThresholds
from siem_consensus.detectors.auth._pool import pool_background
from siem_consensus.detectors.auth._rules import Finding
from siem_consensus.detectors.auth._state import _SCHEMA, KEY, _grouped, merge_rows
from siem_consensus.detectors.firewall._state import _sorted_runs
from siem_consensus.parsers._year import SyslogYear
from siem_consensus.parsers.asa import _header_frame, _with_headers

_HEADERS = (
    "Jan 18 14:23:45 fw01 ",
    "Jan 18 14:23:46 fw01 ",
    "Dec 31 23:59:59 fw02 : ",
    "<166>Jan  8 2026 09:01:02: ",
    "2026-01-18T14:23:45Z fw ",
    "Feb 30 12:00:00 fw01 ",  # no such day: the rows are dropped
    "not a header at all :: ",
    "",
)


def _joined(parsed: pl.DataFrame, year: int | SyslogYear) -> pl.DataFrame:
    """The plain computation: every row joined on its header text."""
    headers = _header_frame(parsed.lazy().select("pre").unique(), year)
    return (
        parsed.lazy()
        .join(headers, on="pre", how="left")
        .filter(pl.col("pre_ok"))
        .drop("pre_ok", "pre")
        .collect()
    )


@settings(deadline=None)
@given(
    st.lists(st.sampled_from(_HEADERS), min_size=1, max_size=40),
    st.sampled_from([2026, None]),
)
def test_asa_headers_per_run_match_a_join_per_row(pres: list[str], fixed: int | None) -> None:
    year: int | SyslogYear = SyslogYear() if fixed is None else fixed
    parsed = pl.DataFrame(
        {
            "idx": pl.Series(range(len(pres)), dtype=pl.UInt32),
            "pre": pres,
            "message": [f"m{i}" for i in range(len(pres))],
        }
    )
    fast = _with_headers(parsed, year)
    assert fast.sort("idx").equals(_joined(parsed, year).select(fast.columns).sort("idx"))


def _two_sorts(frame: pl.LazyFrame, keys: list[str], order: str) -> pl.LazyFrame:
    """The plain computation: stable sort on ``order``, then a stable sort on the key hash."""
    changed = [pl.col(k).ne_missing(pl.col(k).shift(1)) for k in keys]
    first = pl.int_range(pl.len()) == 0
    return (
        frame.sort(order, nulls_last=True, maintain_order=True)
        .with_columns(pl.struct(keys).hash().alias("_h"))
        .sort("_h", maintain_order=True)
        .with_columns((pl.any_horizontal(*changed) | first).cum_sum().alias("_run"))
    )


_T0 = datetime(2026, 1, 18, tzinfo=UTC)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["10.0.0.1", "10.0.0.2", None]),
            st.sampled_from([22, 443, None]),
            st.one_of(st.none(), st.integers(0, 5)),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_firewall_single_sort_orders_rows_as_two_stable_sorts(
    rows: list[tuple[str | None, int | None, int | None]],
) -> None:
    frame = pl.DataFrame(
        {
            "src": [r[0] for r in rows],
            "port": pl.Series([r[1] for r in rows], dtype=pl.Int32),
            "t": [None if r[2] is None else _T0 + timedelta(seconds=r[2]) for r in rows],
            "row": list(range(len(rows))),  # where each row came from: the order is compared
        }
    )
    keys = ["src", "port"]
    fast = _sorted_runs(frame.lazy(), keys, "t").collect()
    assert fast.equals(_two_sorts(frame.lazy(), keys, "t").collect())


@st.composite
def _state_rows(draw: st.DrawFn, most: int = 30) -> pl.DataFrame:
    """Auth state rows with repeated and unique keys, nulls in keys and times."""
    count = draw(st.integers(1, most))
    data: dict[str, list[object]] = {name: [] for name in _SCHEMA}
    for _ in range(count):
        data["window"].append(draw(st.sampled_from([0, 1, None])))
        data["source_ip"].append(draw(st.sampled_from(["203.0.113.5", "10.0.0.9", None])))
        data["user_name"].append(draw(st.sampled_from(["root", "alice", None])))
        data["target"].append(draw(st.sampled_from(["web1", None])))
        for name in ("n", "fails", "succ", "inv", "fb"):
            data[name].append(draw(st.integers(0, 3)))
        for time_col, event_col in (
            ("t_first", None),
            ("t_last", None),
            ("t_ff", "e_ff"),
            ("t_lf", "e_lf"),
            ("t_fs", "e_fs"),
            ("t_ls", None),
        ):
            offset = draw(st.one_of(st.none(), st.integers(0, 9)))
            data[time_col].append(None if offset is None else _T0 + timedelta(seconds=offset))
            if event_col is not None:
                data[event_col].append(None if offset is None else f"x:{offset}")
        data["e_inv"].append(draw(st.sampled_from(["x:1", "x:2", None])))
    return pl.DataFrame(data, schema=_SCHEMA)


@given(_state_rows())
def test_auth_merge_passes_single_rows_through_as_grouping_would(rows: pl.DataFrame) -> None:
    fast = merge_rows(rows)
    plain = _grouped(rows, KEY)
    assert fast.schema == plain.schema
    assert fast.sort(pl.all(), nulls_last=True).equals(plain.sort(pl.all(), nulls_last=True))


def _pool_host_by_host(found: list[Finding], cfg: AuthThresholds) -> list[Finding]:
    """The plain computation: each finding judged alone, each host's rows concatenated."""

    def background(rows: pl.DataFrame) -> bool:
        if int(rows["succ"].sum()) > 0:
            return False
        if any(cfg.is_internal(s) for s in rows["source_ip"].unique().to_list()):
            return False
        named = rows.filter(pl.col("user_name").is_not_null() & (pl.col("inv") == 0))
        return all(cfg.is_common(u) for u in named["user_name"].unique().to_list())

    kept: list[Finding] = []
    parts: dict[tuple[int | None, str | None], list[pl.DataFrame]] = {}
    kinds: dict[tuple[int | None, str | None], Counter[str]] = {}
    for finding in found:
        if finding.kind == "success_after_failures" or not background(finding.rows):
            kept.append(finding)
            continue
        for (host,), rows in finding.rows.partition_by(
            "target", as_dict=True, maintain_order=True
        ).items():
            parts.setdefault((finding.window, host), []).append(rows)
            kinds.setdefault((finding.window, host), Counter())[finding.kind] += 1
    for (window, host), frames in parts.items():
        rows = pl.concat(frames).unique(
            ["window", "source_ip", "user_name", "target"], maintain_order=True
        )
        extra = {"pooled": dict(sorted(kinds[(window, host)].items()))}
        kept.append(
            Finding("background_guessing", window, rows, rows["source_ip"].n_unique(), 1, extra)
        )
    return kept


_KINDS = ("brute_force", "password_spraying", "user_enumeration", "success_after_failures")


def _quiet(rows: pl.DataFrame, no_success: bool, external: bool, common: bool) -> pl.DataFrame:
    """``rows`` made closer to background guessing (so that both verdicts are drawn often)."""
    if no_success:
        rows = rows.with_columns(pl.lit(0, pl.Int64).alias("succ"))
    if external:
        rows = rows.with_columns(pl.col("source_ip").replace("10.0.0.9", "198.51.100.7"))
    if common:
        rows = rows.with_columns(pl.col("user_name").replace("alice", "root"))
    return rows


@settings(deadline=None, max_examples=40)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(_KINDS),
            st.sampled_from([0, 1, None]),
            _state_rows(most=8),
            st.tuples(st.booleans(), st.booleans(), st.booleans()),
        ),
        max_size=6,
    )
)
def test_auth_pooling_in_one_pass_matches_host_by_host(
    specs: list[tuple[str, int | None, pl.DataFrame, tuple[bool, bool, bool]]],
) -> None:
    cfg = AuthThresholds(common_accounts=frozenset({"root"}))
    found = [
        Finding(
            kind, w, _quiet(rows, *quiet).with_columns(pl.lit(w, pl.Int64).alias("window")), 1, 1
        )
        for kind, w, rows, quiet in specs
    ]
    fast, plain = pool_background(found, cfg), _pool_host_by_host(found, cfg)
    assert [(f.kind, f.window, f.observed, f.extra) for f in fast] == [
        (f.kind, f.window, f.observed, f.extra) for f in plain
    ]
    for a, b in zip(fast, plain, strict=True):
        assert a.rows.equals(b.rows)
