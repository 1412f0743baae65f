"""Cisco ASA and Firepower Threat Defense syslog (``%ASA-4-106023: ...``, ``%FTD-...``).

This is the hot path: :meth:`AsaParser.parse_chunk` parses a whole chunk with polars (one regex
for the tag, one per message family, timestamps parsed once per distinct syslog header) and
hands only the rows it cannot settle to :meth:`AsaParser.parse_line`, the per-line reference.
The fast path never decides differently from ``parse_line``: a row it is unsure of (bad
timestamp, port over 65535, no family match, NUL byte, ...) goes to ``parse_line``, which either
parses it or rejects it with a specific reason.

Families and their layouts are data in ``_asa_families.py``. Field choices:

* ``event_action``: ``deny`` (Deny, denied), ``allow`` (Built, permitted), ``teardown``.
* ``event_code``: the tag without ``%`` (``ASA-4-106023``); ``rule_name`` the access-group or
  access-list name; ``user_name`` the identity-firewall user of 106023 when present.
* Built outbound connections are swapped so that ``source`` is the initiator (ASA prints the
  outside address first); teardowns have no direction and keep the printed order.
* Teardown ``bytes N`` counts both directions of the connection; ASA does not split it, so it
  goes to ``source_bytes`` and ``destination_bytes`` stays null.
* ICMP messages have no ports (106100 prints ICMP type/code in the port slots: dropped).
* Header variants: optional ``<PRI>``, BSD (``Jan 18 14:23:45``, with or without Cisco's year)
  or ISO 8601 timestamp, optional hostname, optional ``:`` before the tag. Times without a zone
  are UTC; year-less ones get ``year`` (constructor argument), or the year inferred from the
  time of the run (at most a day ahead; see :mod:`.._year`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar, Final

import polars as pl

from ...models import DeadLetter
from .._blocks import SeriesParser
from .._syslog import bsd_expr, iso_expr, parse_syslog_time
from .._values import share, to_count, to_port
from .._year import SyslogYear
from ..base import (
    EVENT_SCHEMA,
    MAX_LINE_CHARS,
    LineError,
    LineParser,
    ParsedChunk,
    register,
    rows_to_frame,
)
from ._families import GROUPS, HEAD, PRE, VERBS, Family, family_for

__all__ = ["AsaParser"]

_HEAD_RE: Final = re.compile(HEAD)
_PRE_RE: Final = re.compile(PRE)
_TAG: Final = r"%(?:ASA|FTD)-[0-7]-[0-9]{6}:"
_TAG_RE: Final = re.compile(_TAG)
_MID_OFFSET: Final = len("%ASA-4-")
_ICMP: Final = ("icmp", "icmp6")
_MAX_PRE: Final = 256  # a syslog header is short; bounds the Python regex work


@register
class AsaParser(LineParser, SeriesParser):
    """Cisco ASA / FTD syslog lines, vectorised with polars (see the module docstring).

    Args:
        year: Year for syslog timestamps that carry none; when None, each one's year is inferred
            (:class:`~siem_consensus.parsers._year.SyslogYear`: the latest year that puts it at
            most a day after the time of the run).
    """

    name: ClassVar[str] = "asa"
    description: ClassVar[str] = (
        "Cisco ASA / FTD syslog (%ASA-n-nnnnnn: deny, permit, built, teardown)"
    )

    def __init__(self, year: int | None = None) -> None:
        self.year: int | SyslogYear = SyslogYear() if year is None else year

    @classmethod
    def sniff(cls, lines: Sequence[str]) -> float:
        """Share of lines carrying an ``%ASA-``/``%FTD-`` message tag."""
        return share(lines, _TAG_RE.search)

    def parse_line(self, line: str) -> dict[str, Any]:
        """Parse one line (the reference the vectorised path agrees with).

        Raises:
            LineError: not ASA, unsupported message id, bad header or unexpected layout.
        """
        head = _HEAD_RE.match(line)
        if head is None:
            raise LineError(_untagged_reason(line))
        vendor, mid = head["vendor"], head["mid"]
        family = family_for(mid)
        if family is None:
            raise LineError(f"unsupported {vendor} message id {mid}")
        timestamp, host = self._header(head["pre"])
        match = family.regex.match(line)
        if match is None:
            raise LineError(family.explain(mid, vendor, line[head.end() :]))
        row = _fields(family, match.groupdict())
        row["timestamp"] = timestamp
        row["host_name"] = host
        row["event_code"] = f"{vendor}-{head['sev']}-{mid}"
        return row

    def _header(self, pre: str) -> tuple[datetime | None, str | None]:
        if len(pre) > _MAX_PRE:
            raise LineError(f"syslog header before the ASA tag is over {_MAX_PRE} characters")
        match = _PRE_RE.fullmatch(pre)
        if match is None:
            raise LineError(f"unrecognised syslog header before the ASA tag: {pre[:60]!r}")
        return parse_syslog_time(match["bsd"], match["iso"], self.year), match["host"]

    def parse_chunk(self, lines: Sequence[str], first_line: int, source: str) -> ParsedChunk:
        """Vectorised parse; rows the fast path cannot settle go through :meth:`parse_line`."""
        try:
            raw = pl.Series("raw", lines, dtype=pl.String)
        except UnicodeEncodeError:  # lone surrogates: polars cannot hold them
            return super().parse_chunk(lines, first_line, source)
        return self.parse_series(raw, first_line, source)

    def parse_series(self, lines: pl.Series, first_line: int, source: str) -> ParsedChunk:
        """:meth:`parse_chunk` of lines already in a polars series (the file reading path)."""
        frame = lines.alias("raw").to_frame().with_row_index("idx")
        fast = self._fast_rows(frame)
        slow = frame.select("idx").join(fast.select("idx"), on="idx", how="anti")["idx"]
        rows, dead, skipped = self._slow_rows(
            lines.gather(slow).to_list(), slow.to_list(), first_line, source
        )
        columns = {
            "line": pl.col("idx").cast(pl.Int64) + first_line,
            "dataset": pl.lit(self.name),
        }
        present = set(fast.columns)
        events = fast.select(
            columns.get(name, pl.col(name) if name in present else pl.lit(None))
            .cast(dtype)
            .alias(name)
            for name, dtype in EVENT_SCHEMA.items()
        )
        if rows:
            events = pl.concat([events, rows_to_frame(rows, self.name)])
        return ParsedChunk(events.sort("line"), dead, skipped)

    def _fast_rows(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Event columns plus ``idx`` for the rows the vectorised path settles: one lazy plan
        over every family present, collected once."""
        raw = pl.col("raw")
        # find + slice is cheaper than a capture; a wrong slice (non-ASCII header: find counts
        # bytes, slice characters) only sends the row to the per-line path.
        mid = raw.str.slice(raw.str.find(_TAG) + _MID_OFFSET, 6)
        tagged = frame.with_columns(mid=mid).filter(
            pl.col("mid").is_not_null()
            & (raw.str.len_bytes() <= MAX_LINE_CHARS)
            & ~raw.str.contains("\x00", literal=True)
        )
        parts = []
        for (mid,), part in tagged.partition_by("mid", as_dict=True).items():
            family = family_for(str(mid))
            if family is not None:
                parts.append(_family_frame(part.lazy(), family))
        if not parts:
            return _empty_fast()
        parsed = pl.concat(parts).collect(engine="in-memory")
        return _with_headers(parsed, self.year)

    def _slow_rows(
        self, lines: Sequence[str], indexes: list[int], first_line: int, source: str
    ) -> tuple[list[dict[str, Any]], list[DeadLetter], int]:
        """The base-class per-line loop over the rows the fast path left (``lines[k]`` is the
        line at index ``indexes[k]``)."""
        numbered = ((first_line + i, line) for i, line in zip(indexes, lines, strict=True))
        return self.parse_numbered(numbered, source)


def _untagged_reason(line: str) -> str:
    tag = re.search(r"%(ASA|FTD)-", line)
    if tag is None:
        return "not an ASA syslog line (no %ASA-<severity>-<message id>: tag)"
    if "%" in line[: tag.start()]:
        return f"unexpected '%' in the syslog header before the {tag[1]} tag"
    return f"malformed {tag[1]} tag (expected %{tag[1]}-<severity 0-7>-<6-digit id>:)"


def _fields(family: Family, groups: dict[str, str | None]) -> dict[str, Any]:
    """Event columns from a family match (Python twin of :func:`_family_frame`)."""
    transport = groups.get("pnum") or (groups["transport"] or "").lower()
    sip, sport, dip, dport = groups["sip"], groups.get("sport"), groups["dip"], groups.get("dport")
    if groups.get("dir") == "outbound":
        sip, sport, dip, dport = dip, dport, sip, sport
    if transport in _ICMP:
        sport = dport = None
    return {
        "event_action": family.action or VERBS[groups["verb"] or ""],
        "source_ip": sip,
        "source_port": to_port(sport, "source port"),
        "destination_ip": dip,
        "destination_port": to_port(dport, "destination port"),
        "network_transport": transport,
        "source_bytes": to_count(groups.get("bytes"), "teardown bytes"),
        "rule_name": groups.get("rule") or None,
        "user_name": _user(groups.get("user")),
        "message": groups["message"],
    }


def _user(text: str | None) -> str | None:
    """``LOCAL\\alice, 2`` (identity-firewall user, security group) -> ``LOCAL\\alice``."""
    return (text or "").split(",", 1)[0].strip(" ") or None


def _family_frame(part: pl.LazyFrame, family: Family) -> pl.LazyFrame:
    """Vectorised :func:`_fields` for the rows of one family that it settles (the others are
    left to the per-line path: no match, port over 65535, byte count over 64 bits)."""
    matched = part.select("idx", m=pl.col("raw").str.extract_groups(family.pattern)).unnest("m")
    has = family.groups
    g = {n: pl.col(n) if n in has else pl.lit(None, pl.String) for n in GROUPS}
    transport = g["transport"].str.to_lowercase()
    if "pnum" in has:
        transport = pl.coalesce(g["pnum"], transport)
    sip, sport, dip, dport = _endpoints(g, transport, swap="dir" in has)
    count = g["bytes"].cast(pl.Int64, strict=False)
    # checks only on the groups the family has: an absent group is null, which passes (and a
    # predicate part made of literals alone trips polars' in-memory engine on split frames)
    ok = pl.col("code").is_not_null()
    if "bytes" in has:
        ok = ok & (g["bytes"].is_null() | count.is_not_null())
    for port, group in ((sport, "sport"), (dport, "dport")):
        if group in has:
            ok = ok & (port.is_null() | (port.cast(pl.Int32, strict=False) <= 65535))
    action = (
        pl.lit(family.action) if family.action else g["verb"].replace_strict(VERBS, default=None)
    )
    return matched.filter(ok).select(
        "idx",
        "pre",
        action.alias("event_action"),
        pl.lit(None, pl.String).alias("event_outcome"),
        pl.col("code").alias("event_code"),
        sip.alias("source_ip"),
        sport.cast(pl.Int32).alias("source_port"),
        dip.alias("destination_ip"),
        dport.cast(pl.Int32).alias("destination_port"),
        transport.alias("network_transport"),
        count.alias("source_bytes"),
        pl.lit(None, pl.Int64).alias("destination_bytes"),
        pl.when(g["rule"] != "").then(g["rule"]).alias("rule_name"),
        _user_expr(g["user"]).alias("user_name"),
        "message",
    )


def _endpoints(g: dict[str, pl.Expr], transport: pl.Expr, swap: bool) -> list[pl.Expr]:
    """Source ip/port, destination ip/port: outbound Built swapped, no ports for ICMP."""
    sip, sport, dip, dport = g["sip"], g["sport"], g["dip"], g["dport"]
    if swap:
        out = g["dir"] == "outbound"
        pairs = ((sip, dip), (sport, dport), (dip, sip), (dport, sport))
        sip, sport, dip, dport = (pl.when(out).then(b).otherwise(a) for a, b in pairs)
    not_icmp = ~transport.is_in(_ICMP)
    return [sip, pl.when(not_icmp).then(sport), dip, pl.when(not_icmp).then(dport)]


def _user_expr(user: pl.Expr) -> pl.Expr:
    """Vectorised :func:`_user`."""
    name = user.str.split_exact(",", 1).struct.field("field_0").str.strip_chars(" ")
    return pl.when(name != "").then(name)


def _with_headers(parsed: pl.DataFrame, year: int | SyslogYear) -> pl.DataFrame:
    """``parsed`` with ``timestamp`` and ``host_name`` for its ``pre``, rows whose header does
    not parse dropped.

    Each distinct header is parsed once; rows take the result of their run of equal headers
    (consecutive rows mostly share their second) by position, which is cheaper than joining
    every row on the header text.
    """
    pre = parsed.get_column("pre")
    runs = pre.rle_id()
    heads = pre.filter(runs.is_first_distinct()).to_frame()
    headers = _header_frame(heads.lazy().unique(), year).collect(engine="in-memory")
    per_run = heads.join(headers, on="pre", how="left", maintain_order="left")
    rows = parsed.drop("pre").hstack(per_run.select("timestamp", "host_name")[runs].get_columns())
    ok = per_run.get_column("pre_ok")
    return rows if ok.all() else rows.filter(ok.gather(runs))


def _header_frame(pres: pl.LazyFrame, year: int | SyslogYear) -> pl.LazyFrame:
    """Timestamp and host for each distinct syslog header (``pre``), with a ``pre_ok`` flag."""
    parsed = pres.with_columns(p=pl.col("pre").str.extract_groups(f"^{PRE}$")).unnest("p")
    timestamp = pl.coalesce(bsd_expr(pl.col("bsd"), year), iso_expr(pl.col("iso")))
    no_time = pl.col("bsd").is_null() & pl.col("iso").is_null()
    return parsed.select(
        "pre",
        timestamp.alias("timestamp"),
        pl.col("host").alias("host_name"),
        (
            pl.col("all").is_not_null()
            & (pl.col("pre").str.len_chars() <= _MAX_PRE)
            & (no_time | timestamp.is_not_null())
        ).alias("pre_ok"),
    )


def _empty_fast() -> pl.DataFrame:
    schema = {"idx": pl.UInt32(), **{k: v for k, v in EVENT_SCHEMA.items() if k != "line"}}
    return pl.DataFrame(schema=schema)
