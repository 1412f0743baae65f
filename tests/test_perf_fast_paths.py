"""The throughput shortcuts give what the plain computations they replace give.

* ASA headers parsed once per run of equal headers (``_with_headers``) = a join of every row
  on its header text;
* the firewall merges' single sort on ``(key hash, order)`` = a stable sort on ``order`` then
  a stable sort on the hash;
* the auth state merge passing keys on one row through = grouping every row.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

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
def _state_rows(draw: st.DrawFn) -> pl.DataFrame:
    """Auth state rows with repeated and unique keys, nulls in keys and times."""
    count = draw(st.integers(1, 30))
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
