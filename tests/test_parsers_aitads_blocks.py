"""AIT-ADS parsed in whole blocks (polars' CSV reader): the same events, dead letters and skips
as line by line, whatever bad lines a block holds; and files read in blocks, gzip in place."""

from __future__ import annotations

import gzip
import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, cast
from unittest import mock

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from parser_checks import assert_accounted

from siem_consensus.errors import InputError
from siem_consensus.parsers._blocks import Block, count_lines, decode_lines, is_plain
from siem_consensus.parsers.aitads import AitAdsParser
from siem_consensus.parsers.aitads import _block as _aitads_block
from siem_consensus.parsers.base import LineParser, ParsedChunk
from siem_consensus.sources import EventStream, read_blocks

HEADER = "time,name,ip,host,short,time_label,event_label"
WIDTH = "expected 7 (time,name,ip,host,short,time_label,event_label)"


def good(i: int) -> str:
    """A plain row; names, hosts and addresses vary so that runs and lookups are exercised."""
    name = ("Wazuh: ClamAV database update", "Suricata: Alert - ET INFO TLS", "AMiner: New path")[
        i % 3
    ]
    return f"{1642213952 + i},{name},10.35.{i % 7}.{i % 11},host{i % 5},C-{i % 3},fp,-"


BAD: dict[str, bytes] = {
    "short row": b"1642508251,Wazuh: ClamAV database update,172.17.131.81",
    "extra field": b"1642508249,Suricata: Alert - ET SCAN Nmap, Detected,10.0.0.1,web,S-Scn,x,y",
    "bad time": b"yesterday,Wazuh: ClamAV database update,172.17.131.81,mail,W-Sys-Cav,fp,-",
    "fractional time": b"1642508247.5,Wazuh: sshd: authentication failed.,10.35.35.206,i,W,c,o",
    "bad address": b"1642508250,Wazuh: rootcheck,not-an-ip,monitoring,W-Sys-Rck,fp,-",
    "quoted": b'"1642508248","Wazuh: Multiple alerts (ignoring), again.",10.35.35.206,i,W,c,-',
    "open quote": b'1642508252,"Wazuh: unterminated quote,172.17.131.81,mail,W-Sys-Cav,fp,-',
    "crlf": b"1642508253,Wazuh: ClamAV database update,172.17.131.81,mail,W-Sys-Cav,fp,-\r",
    "two cr": b"1642508254,Wazuh: ClamAV database update,172.17.131.81,mail,W-Sys-Cav,fp,-\r\r",
    "nul": b"\x00\x00garbage\x01,\x02,\x03",
    "tab": b"1642508255,\tWazuh: ClamAV database update,172.17.131.81,mail,W-Sys-Cav,fp,-",
    "non-ascii": "1642508256,Wazuh: caf\u00e9\u00a0,172.17.131.81,mail,W,fp,-".encode(),
    "invalid utf-8": b"1642508257,Wazuh: \xff\xfe,172.17.131.81,mail,W-Sys-Cav,fp,-",
    "blank": b"",
    "spaces": b"   ",
    "header": HEADER.encode(),
    "zlib magic": b"x^1642508258,Wazuh: x,172.17.131.81,mail,W,fp,-",
}


def reference(data: bytes, first: int = 1, source: str = "x.csv") -> ParsedChunk:
    """Line by line, the meaning every block parse must reproduce."""
    return LineParser.parse_chunk(AitAdsParser(), decode_lines(data), first, source)


def assert_same(parsed: ParsedChunk, expected: ParsedChunk) -> None:
    assert parsed.events.equals(expected.events)
    assert parsed.dead_letters == expected.dead_letters
    assert parsed.skipped == expected.skipped


def block_of(lines: list[bytes], *, end: bytes = b"\n") -> bytes:
    return b"\n".join(lines) + end


@pytest.mark.parametrize("kind", sorted(BAD))
@pytest.mark.parametrize("where", [0, 1, 2499, 4999], ids=lambda w: f"line{w + 1}")
def test_a_bad_line_inside_a_block(kind: str, where: int) -> None:
    lines = [good(i).encode() for i in range(5000)]
    lines[where] = BAD[kind]
    data = block_of(lines)
    parsed = AitAdsParser().parse_block(Block(data, count_lines(data)), 1, "x.csv")
    assert_accounted(parsed, 5000)
    assert_same(parsed, reference(data))
    others = set(range(1, 5001)) - {where + 1}
    assert others <= set(parsed.events["line"].to_list())


def test_dead_letters_keep_their_line_numbers() -> None:
    lines = [good(i).encode() for i in range(6000)]
    for where, kind in [(99, "short row"), (3000, "bad time"), (3001, "nul"), (5998, "header")]:
        lines[where] = BAD[kind]
    lines[-1] = lines[-1][:25]  # a truncated last line, without its newline
    data = block_of(lines, end=b"")
    parsed = AitAdsParser().parse_block(Block(data, count_lines(data)), 1001, "x.csv")
    reasons = {d.line: d.reason for d in parsed.dead_letters}
    assert reasons == {
        1100: f"AIT-ADS row has 3 fields, {WIDTH}",
        4001: "time is not a valid epoch time: 'yesterday'",
        4002: "binary data (NUL byte) in a text log line",
        7000: f"AIT-ADS row has 2 fields, {WIDTH}",
    }
    assert (parsed.skipped, parsed.events.height) == (1, 5995)
    assert_same(parsed, reference(data, 1001))


PLAIN_OTHERS = ["fractional time", "bad time", "bad address", "header"]


@pytest.mark.parametrize("every", [1, 7, 50, 2999])
def test_plain_blocks_with_rows_for_parse_line(every: int) -> None:
    """Printable rows the fast path leaves to parse_line (few: slices; many: a filter)."""
    lines = [good(i).encode() for i in range(3000)]
    for n, where in enumerate(range(0, 3000, every)):
        lines[where] = BAD[PLAIN_OTHERS[n % len(PLAIN_OTHERS)]]
    data = block_of(lines)
    parsed = AitAdsParser().parse_block(Block(data, 3000), 1, "x.csv")
    assert_accounted(parsed, 3000)
    assert_same(parsed, reference(data))


_GOOD = [good(i).encode() for i in range(40)]


@settings(max_examples=60, deadline=None)
@given(
    picks=st.lists(st.sampled_from(_GOOD) | st.sampled_from(sorted(BAD.values())), max_size=60),
    newline=st.booleans(),
    first=st.integers(1, 10**6),
)
def test_any_mix_parses_like_line_by_line(picks: list[bytes], newline: bool, first: int) -> None:
    data = block_of(picks, end=b"\n" if newline else b"") if picks else b""
    if not count_lines(data):
        return
    with mock.patch.object(_aitads_block, "LEAF_LINES", 2):  # split down to two lines
        parsed = AitAdsParser().parse_block(Block(data, count_lines(data)), first, "fuzz")
    assert_accounted(parsed, count_lines(data))
    assert_same(parsed, reference(data, first, "fuzz"))


def test_decoded_lines_take_the_block_path_when_they_round_trip() -> None:
    lines = [good(i) for i in range(3000)]
    with mock.patch.object(_aitads_block, "_parsed", wraps=_aitads_block._parsed) as bulk:
        parsed = AitAdsParser().parse_chunk(lines, 1, "x.csv")
    assert bulk.call_count == 1
    assert_same(parsed, reference(block_of([line.encode() for line in lines])))


@pytest.mark.parametrize("piece", [1, 7, 64, 1 << 20])
@pytest.mark.parametrize("end", [b"\n", b"", b"\n\n"])
def test_read_blocks_cuts_at_line_ends_and_counts(piece: int, end: bytes) -> None:
    lines = [good(i).encode() for i in range(50)]
    lines[20] = BAD["quoted"]
    data = block_of(lines, end=end)
    blocks = list(read_blocks(io.BytesIO(data), lines=8, piece=piece))
    assert b"".join(b.data for b in blocks) == data
    assert all(b.data.endswith(b"\n") for b in blocks[:-1])
    assert [b.lines for b in blocks] == [count_lines(b.data) for b in blocks]
    assert all(b.lines >= 8 for b in blocks[:-1])
    assert all(b.plain is False or is_plain(b.data) for b in blocks)
    assert not all(b.plain for b in blocks)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


@pytest.mark.parametrize("name", ["x_alerts.csv", "x_alerts.csv.gz"])
def test_files_are_read_in_blocks_gzip_in_place(tmp_path: Path, name: str) -> None:
    lines = [HEADER.encode()] + [good(i).encode() for i in range(12_000)]
    lines[7000] = BAD["open quote"]
    lines[9000] = BAD["invalid utf-8"]
    data = block_of(lines, end=b"\r\n")
    stream = EventStream([_write(tmp_path / name, data)], chunk_lines=5000)
    frames = [frame for _, frame in stream]
    stats = stream.stats
    assert stats.formats == {name: "ait-ads"}
    assert (stats.lines, stats.skipped_lines, stats.dead_letters) == (12_001, 1, 1)
    assert stats.events == 11_999 == sum(f.height for f in frames)
    expected = reference(data, 1, name)
    events = pl.concat(frames)
    assert events.equals(expected.events.with_columns(pl.lit(name).alias("source")))
    assert stream.dead_letters == expected.dead_letters
    assert stream.dead_letters[0].line == 7001


def test_crlf_file_gives_the_same_events(tmp_path: Path) -> None:
    rows = [HEADER] + [good(i) for i in range(3000)]
    unix = EventStream([_write(tmp_path / "unix.csv", "\n".join(rows).encode())])
    dos = EventStream([_write(tmp_path / "dos.csv", "\r\n".join(rows).encode() + b"\r\n")])
    a, b = (pl.concat([f.drop("source") for _, f in s]) for s in (unix, dos))
    assert a.equals(b) and a.height == 3000


def test_gzip_in_place_for_a_line_parser(tmp_path: Path) -> None:
    plain = Path(__file__).parent / "data" / "parsers" / "ids" / "fastlog.log"
    packed = _write(tmp_path / "fast.log.gz", plain.read_bytes())
    a, b = (pl.concat([f.drop("source") for _, f in EventStream([p])]) for p in (plain, packed))
    assert a.equals(b)


def test_read_ahead_keeps_order_raises_in_order_and_stops_early() -> None:
    from siem_consensus.parsers.reading import read_ahead as _read_ahead

    assert list(_read_ahead(iter(range(50)))) == list(range(50))

    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("corrupt gzip stream")

    got: list[int] = []
    with pytest.raises(ValueError, match="corrupt gzip"):
        for item in _read_ahead(failing()):
            got.append(item)
    assert got == [1, 2]

    produced: list[int] = []

    def counting() -> Iterator[int]:
        for n in range(1000):
            produced.append(n)
            yield n

    ahead = _read_ahead(counting())
    assert next(ahead) == 0
    ahead.close()  # the worker stops: at most one item made ahead of the consumer
    assert len(produced) <= 3
    assert not any(t.name == "siem-consensus-read-ahead" for t in threading.enumerate())


_BYTES = [
    b"a,",
    b"\n",
    b"\r",
    b"\r\n",
    b"\xc3\xa9",
    b"\xe2\x82\xac",
    b"\xff",
    b"\xe2\x82",
    b"x" * 7,
]


@settings(max_examples=80, deadline=None)
@given(
    parts=st.lists(st.sampled_from(_BYTES), max_size=60),
    piece=st.integers(1, 9),
    lines=st.integers(1, 5),
)
def test_read_blocks_gives_the_lines_of_read_lines(
    parts: list[bytes], piece: int, lines: int
) -> None:
    """Pieces cut anywhere (inside a UTF-8 character, between ``\\r`` and ``\\n``): the
    blocks still hold whole lines, counted, and decode to the lines of the file."""
    data = b"".join(parts)
    blocks = list(read_blocks(io.BytesIO(data), lines=lines, piece=piece))
    expected = [raw.decode("utf-8", errors="replace").rstrip("\r\n") for raw in io.BytesIO(data)]
    assert [line for b in blocks for line in decode_lines(b.data)] == expected
    assert sum(b.lines for b in blocks) == len(expected)
    assert [b.lines for b in blocks] == [count_lines(b.data) for b in blocks]
    assert all(b.plain is False or is_plain(b.data) for b in blocks)


@pytest.mark.parametrize("name", ["x_alerts.csv", "x_alerts.csv.gz"])
@pytest.mark.parametrize("how", ["closed", "raised", "dropped"])
def test_a_stream_stopped_early_leaves_no_reader_behind(
    tmp_path: Path, name: str, how: str
) -> None:
    """Closed after the first batch, an exception in the consumer, or a stream left unread
    (still referenced): the read-ahead thread ends by itself; the file is closed when the
    stream is."""
    from siem_consensus import sources

    path = _write(tmp_path / name, block_of([good(i).encode() for i in range(30_000)]))
    opened: list[BinaryIO] = []
    open_binary = sources.open_binary

    def spy(p: Path) -> BinaryIO:
        opened.append(cast(BinaryIO, open_binary(p)))
        return opened[-1]

    with mock.patch.object(sources, "open_binary", spy):
        stream = iter(EventStream([path], input_format="ait-ads", chunk_lines=1000))
        next(stream)
    if how == "closed":
        stream.close()
    elif how == "raised":

        def consume() -> None:
            for _ in stream:
                raise RuntimeError("downstream")

        with pytest.raises(RuntimeError, match="downstream"):
            consume()
    for thread in threading.enumerate():
        if thread.name == "siem-consensus-read-ahead":
            thread.join(timeout=10)  # the one making the next block, if any, ends by itself
            assert not thread.is_alive()
    assert opened[-1].closed is (how == "closed")  # the handle the stream reads from


def _damaged(data: bytes, how: str) -> bytes:
    packed = gzip.compress(data)
    if how == "truncated":
        return packed[: len(packed) // 2]
    if how == "header only":
        return packed[:10]
    flipped = bytearray(packed)  # a flipped byte in the data: a CRC error at the end at least
    flipped[len(flipped) // 2] ^= 0xFF
    return bytes(flipped)


@pytest.mark.parametrize("how", ["truncated", "header only", "flipped byte"])
@pytest.mark.parametrize("fmt", ["ait-ads", None])
def test_a_damaged_gzip_file_is_an_input_error(tmp_path: Path, how: str, fmt: str | None) -> None:
    lines = [HEADER.encode()] + [good(i).encode() for i in range(20_000)]
    path = tmp_path / "x_alerts.csv.gz"
    path.write_bytes(_damaged(block_of(lines), how))
    stream = EventStream([path], input_format=fmt, chunk_lines=1000)
    with pytest.raises(InputError, match=r"x_alerts\.csv\.gz: truncated or corrupt gzip data"):
        for _ in stream:
            pass
    stats = stream.stats
    assert stats.lines == stats.events + stats.dead_letters + stats.skipped_lines
    assert not any(t.name == "siem-consensus-read-ahead" for t in threading.enumerate())


def test_a_damaged_gzip_file_is_an_input_error_for_a_line_parser(tmp_path: Path) -> None:
    plain = Path(__file__).parent / "data" / "parsers" / "ids" / "fastlog.log"
    path = tmp_path / "fast.log.gz"
    path.write_bytes(_damaged(plain.read_bytes(), "truncated"))
    with pytest.raises(InputError, match="truncated or corrupt gzip data"):
        list(EventStream([path]))


@pytest.mark.parametrize("fmt", ["ait-ads", None])
def test_an_empty_gzip_file_is_empty(tmp_path: Path, fmt: str | None) -> None:
    path = _write(tmp_path / "x_alerts.csv.gz", b"")
    stream = EventStream([path], input_format=fmt)
    assert list(stream) == []
    assert (stream.stats.lines, stream.stats.formats) == (0, {"x_alerts.csv.gz": "empty"})


def test_a_gzip_json_array_reads_like_the_plain_one(tmp_path: Path) -> None:
    array = Path(__file__).parent / "data" / "parsers" / "ids" / "splunk_results.json"
    packed = _write(tmp_path / "results.json.gz", array.read_bytes())
    streams = [EventStream([p]) for p in (array, packed)]
    a, b = (pl.concat([f.drop("source") for _, f in s]) for s in streams)
    assert a.equals(b) and a.height > 0
    assert [s.stats.formats for s in streams] == [
        {array.name: "splunk"},
        {packed.name: "splunk"},
    ]


@pytest.mark.parametrize("fmt", ["ait-ads", None])
@pytest.mark.parametrize("name", ["x_alerts.csv", "x_alerts.csv.gz", "fast.log.gz"])
def test_a_file_is_opened_once(tmp_path: Path, fmt: str | None, name: str) -> None:
    """Format detection and the first-byte look rewind the one handle; nothing reopens."""
    from siem_consensus import sources

    if name.startswith("fast"):
        data = (Path(__file__).parent / "data" / "parsers" / "ids" / "fastlog.log").read_bytes()
        fmt = None
    else:
        data = block_of([HEADER.encode()] + [good(i).encode() for i in range(100)])
    path = _write(tmp_path / name, data)
    with mock.patch.object(sources, "open_binary", wraps=sources.open_binary) as opened:
        assert sum(f.height for _, f in EventStream([path], input_format=fmt)) > 0
    assert opened.call_count == 1
