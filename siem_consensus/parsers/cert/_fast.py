"""Vectorised (polars) twin of ``_layout.convert`` for CERT rows.

:func:`fast_events` settles only the rows it is sure of: unquoted, ASCII-shaped values (two
digit date parts, ``[A-Za-z0-9 _-]`` activities, at most 18-digit byte counts) that it reads
exactly as the Python reference does. Anything else (quoted CSV, odd spacing, out-of-range
numbers, bad dates, unknown activities) is left to the per-line path, which parses it or gives
the specific reason it is rejected, so both paths always decide the same.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Final

import polars as pl

from .._zone import local_expr
from ._layout import _FLAG_VALUES, _TRUE, SENT_ACTIONS, Kind

__all__ = ["fast_events"]

_FAST_DATE: Final = (
    r"^(?:0[1-9]|1[0-2])/(?:0[1-9]|[12][0-9]|3[01])/[1-9][0-9]{3} "
    r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"
)
_FAST_ACTIVITY: Final = r"^[A-Za-z0-9 _-]*$"
_FAST_COUNT: Final = r"^[0-9]{1,18}$"
_BLANK: Final = " \t"

_Columns = dict[str, pl.Expr]
_Extra = tuple[pl.Expr, list[pl.Expr]]


def _one_of(expr: pl.Expr, values: Collection[str]) -> pl.Expr:
    return expr.is_in(pl.Series(sorted(values), dtype=pl.String).implode())


def _text(col: _Columns, name: str) -> pl.Expr:
    return col.get(name, pl.lit("", pl.String))


def _nonempty(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr != "").then(expr)


def _count(expr: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(ok, value) of an optional byte count."""
    ok = (expr == "") | expr.str.contains(_FAST_COUNT)
    return ok, pl.when(expr != "").then(expr.cast(pl.Int64, strict=False))


def _action(kind: Kind, col: _Columns) -> tuple[pl.Expr, pl.Expr]:
    """(ok, event_action)."""
    if "activity" not in col:
        return pl.lit(True), pl.lit(kind.default_action, pl.String)
    raw = col["activity"]
    action = raw.str.to_lowercase().str.replace_all("[^a-z0-9]+", "_").str.strip_chars("_")
    ok = raw.str.contains(_FAST_ACTIVITY) & (action != "")
    if kind.actions:
        ok = ok & _one_of(action, kind.actions)
    return ok, action


def _volume(col: _Columns, action: pl.Expr, kind: Kind) -> _Extra:
    if "bytes" not in col:  # literal-only expressions would not broadcast
        none = pl.lit(None, pl.Int64)
        return pl.lit(True), [none.alias("source_bytes"), none.alias("destination_bytes")]
    ok, value = _count(col["bytes"])
    if "activity" in col:
        sent = _one_of(action, SENT_ACTIONS)
    else:
        sent = pl.lit(kind.default_action in SENT_ACTIONS)
    return ok, [
        pl.when(sent).then(value).alias("source_bytes"),
        pl.when(~sent).then(value).alias("destination_bytes"),
    ]


def _file(col: _Columns, action: pl.Expr, kind: Kind) -> _Extra:
    ok, volume = _volume(col, action, kind)
    path = col["filename"]
    flags = []
    for name in ("to_removable_media", "from_removable_media"):
        if name in col:
            ok = ok & _one_of(col[name], _FLAG_VALUES)
            flags.append(pl.when(_one_of(col[name], _TRUE)).then(pl.lit(name)))
    message = (
        _nonempty(pl.concat_str(flags, separator=",", ignore_nulls=True))
        if flags
        else pl.lit(None, pl.String)
    )
    return ok & (path != ""), [path.alias("file_path"), message.alias("message"), *volume]


def _http(col: _Columns, action: pl.Expr, kind: Kind) -> _Extra:
    ok, volume = _volume(col, action, kind)
    url = col["url"]
    return ok & (url != ""), [url.alias("url_original"), *volume]


def _attachments(col: _Columns) -> _Extra:
    if "attachments" not in col:
        return pl.lit(True), [pl.lit(0, pl.Int32).alias("email_attachments")]
    text = col["attachments"]
    named = text.str.split(";").list.eval(pl.element().str.strip_chars(_BLANK) != "").list.sum()
    count = pl.when(text.str.contains("^[0-9]+$")).then(text.cast(pl.Int64, strict=False))
    ok = ~text.str.contains("^[0-9]{10,}$")
    return ok, [count.otherwise(named).cast(pl.Int32).alias("email_attachments")]


def _email(col: _Columns, action: pl.Expr, kind: Kind) -> _Extra:
    del action, kind
    everyone = pl.concat_str([_text(col, "to"), _text(col, "cc"), _text(col, "bcc")], separator=";")
    joined = (
        everyone.str.split(";")
        .list.eval(pl.element().str.strip_chars(_BLANK))
        .list.eval(pl.element().filter(pl.element() != ""))
        .list.join(",")
    )
    ok, size = pl.lit(True), pl.lit(None, pl.Int64)
    if "size" in col:
        ok, size = _count(col["size"])
    attached_ok, attached = _attachments(col)
    return ok & attached_ok, [
        _nonempty(col["from"]).alias("email_from"),
        _nonempty(joined).alias("email_to"),
        size.alias("source_bytes"),
        *attached,
    ]


def _nothing(col: _Columns, action: pl.Expr, kind: Kind) -> _Extra:
    del col, action, kind
    return pl.lit(True), []


_EXTRAS: Final[dict[str, Callable[[_Columns, pl.Expr, Kind], _Extra]]] = {
    "logon": _nothing,
    "device": _nothing,
    "file": _file,
    "http": _http,
    "email": _email,
}


def _split(frame: pl.DataFrame, layout: tuple[str, ...]) -> tuple[pl.DataFrame, _Columns, pl.Expr]:
    """Fields as columns ``c0..``, stripped value expressions by name, and the count check."""
    count, spill = len(layout), layout[-1] == "content"
    pieces = count if spill else count + 1
    names = [f"c{i}" for i in range(pieces)]
    parts = pl.col("raw").str.splitn(",", pieces).struct.rename_fields(names)
    fields = {name: f"c{i}" for i, name in enumerate(layout) if name != "content"}
    split = (
        frame.select("idx", parts.alias("parts"))
        .unnest("parts")
        .with_columns(
            pl.col(column).str.strip_chars(_BLANK).alias(f"v_{name}")
            for name, column in fields.items()
        )
    )
    col = {name: pl.col(f"v_{name}") for name in fields}
    ok = pl.col(f"c{count - 1}").is_not_null()
    if not spill:
        ok = ok & pl.col(f"c{count}").is_null()
    return split, col, ok


def fast_events(frame: pl.DataFrame, kind: Kind, layout: tuple[str, ...]) -> pl.DataFrame:
    """``idx`` and event columns of the rows of ``frame`` (``idx``, ``raw``) it settles.

    ``frame`` must hold only rows without a double quote, NUL byte or over-long text; the
    caller sends the rows missing from the result to the per-line path.
    """
    split, col, ok = _split(frame, layout)
    date = col["date"]
    action_ok, action = _action(kind, col)
    split = split.with_columns(
        date.str.strptime(pl.Datetime("us"), "%m/%d/%Y %H:%M:%S", strict=False).alias("_time"),
        action.alias("_action"),
    )
    # Zone-less wall times in the --timezone zone; a time skipped by DST is null here and
    # goes to the per-line path (see .._zone).
    split = split.with_columns(local_expr(pl.col("_time").dt.replace_time_zone("UTC")))
    timestamp, action = pl.col("_time"), pl.col("_action")
    extra_ok, extra = _EXTRAS[kind.name](col, action, kind)
    in_range = timestamp.is_not_null() & (timestamp.dt.year() <= 9999)
    ok = ok & date.str.contains(_FAST_DATE) & in_range & (col["user"] != "")
    ok = (ok & action_ok & extra_ok).fill_null(False)
    settled = split.lazy().filter(ok)
    return settled.select(
        "idx",
        timestamp.alias("timestamp"),
        col["user"].alias("user_name"),
        _nonempty(_text(col, "pc")).alias("host_name"),
        pl.lit(kind.category, pl.String).alias("event_category"),
        action.alias("event_action"),
        *extra,
    ).collect()
