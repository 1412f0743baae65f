"""Read inputs (files, lines, dicts, Events) as streams of columnar event batches.

Memory stays bounded: files are read ``chunk_lines`` at a time and only the first
``dead_letter_limit`` dead letters are kept in memory (all of them are counted, and all are
written to ``dead_letter_path`` when one is given). Gzip files (recognised by their first two
bytes) are decompressed on the fly. Parsers that read whole blocks (AIT-ADS CSV) get raw
blocks of about ``chunk_lines`` lines, read ahead on a second thread; connectors
(:class:`~siem_consensus.connectors.Connector`) are read through their ``search()``.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeAlias

import polars as pl

from .. import parsers as _parsers  # noqa: F401  (registers the built-in parsers)
from ..errors import InputError, UnknownFormatError
from ..models import DeadLetter, Event, InputStats
from ..parsers._blocks import BlockParser, SeriesParser
from ..parsers._zone import check_zone, naive_zone
from ..parsers.base import (
    EVENT_SCHEMA,
    JsonParser,
    ParsedChunk,
    get_parser,
    rows_to_frame,
)
from ..parsers.caller_ids import CallerIds, line_id, record_id
from ..parsers.detect import detect_format, detect_records
from ..parsers.inputs import expand_path
from ..parsers.reading import (
    DEFAULT_LIMITS,
    LimitedReader,
    Limits,
    Readable,
    Replay,
    Rewindable,
    open_binary,
    open_stream,
    read_ahead,
    read_blocks,
    read_line_series,
    read_lines,
)

if TYPE_CHECKING:
    from ..connectors.base import Connector, ConnectorQuery

from ._connector import connector_chunks
from ._records import chain, not_paths, records_chunk

__all__ = ["EventStream", "Progress", "Source", "detect_format", "read_blocks", "read_lines"]

Source: TypeAlias = (
    "str | os.PathLike[str] | Iterable[str] | Iterable[Mapping[str, Any]] | Iterable[Event]"
    " | Connector"
)
"""A path, an iterable of raw lines, of decoded JSON records or of :class:`Event`, a
:class:`~siem_consensus.connectors.Connector` (everything it reads) or one of its searches
(:meth:`Connector.search <siem_consensus.connectors.Connector.search>`)."""

Progress: TypeAlias = Callable[[int, int, int], None]
"""Called after each chunk with (lines read, bytes read, total bytes or 0 if unknown); for a
gzip file both are compressed bytes (the file's size is known, its decompressed size is not)."""

_SNIFF_LINES = 20
_ID_RE = re.compile(r"^(?P<source>.+):(?P<line>\d+)$")


@dataclass
class EventStream:
    """Iterate ``(source name, event batch)`` over one or more inputs, accounting every line.

    Each yielded frame has the :data:`~siem_consensus.parsers.base.EVENT_SCHEMA` columns plus
    ``source`` (the input name used in event ids ``{source}:{line}``).

    Args:
        sources: Inputs to read, in order.
        input_format: Parser name to force; detected per input when None.
        chunk_lines: Lines per batch (bounds memory).
        dead_letter_limit: Dead letters kept in :attr:`dead_letters` (all are counted).
        dead_letter_path: When set, every dead letter is appended there as JSON lines.
        progress: Optional progress callback.
        limits: Caps on line length and (decompressed) size of each input.
        timezone: IANA zone of time stamps written without one (syslog, ISO 8601 without an
            offset); UTC when None.

    A path may be a file, a folder (every file below it, recursively) or a glob. When there
    are several inputs, one that cannot be read (missing, damaged gzip, unknown format, over a
    cap) does not stop the others: why is in ``stats.failures`` (what it yielded before the
    damage was kept). A single input that cannot be read raises.

    Events that carry their own id (an :class:`Event`'s ``event_id``, a record's ECS
    ``event.id``, a connector document's id) keep it: :attr:`ids` maps the ``{source}:{line}``
    the detectors compute back to it.
    """

    sources: Sequence[Source]
    input_format: str | None = None
    chunk_lines: int = 100_000
    dead_letter_limit: int = 1000
    dead_letter_path: str | os.PathLike[str] | None = None
    progress: Progress | None = None
    limits: Limits = DEFAULT_LIMITS
    timezone: str | None = None
    stats: InputStats = field(default_factory=InputStats)
    ids: CallerIds = field(default_factory=CallerIds)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    _dl_file: IO[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.input_format is not None:
            get_parser(self.input_format)  # fail early on unknown names
        check_zone(self.timezone)

    def __iter__(self) -> Iterator[tuple[str, pl.DataFrame]]:
        try:
            if self.dead_letter_path is not None:
                self._dl_file = open(self.dead_letter_path, "w", encoding="utf-8")  # noqa: SIM115
            inputs = self._inputs()
            read = 0
            for name, source in inputs:
                if len(self.sources) == 1 and len(inputs) == 1:
                    yield from self._one(name, source)
                    read += 1
                    continue
                try:
                    yield from self._one(name, source)
                    read += 1
                except (InputError, UnknownFormatError) as exc:
                    self.stats.failures[name] = str(exc)
            if self.stats.failures and not read:
                raise InputError(
                    "no input could be read: " + "; ".join(self.stats.failures.values())
                )
        finally:
            if self._dl_file is not None:
                self._dl_file.close()
                self._dl_file = None

    def _inputs(self) -> list[tuple[str, Source]]:
        """Every input, paths expanded (folders, globs); a path that names nothing fails."""
        inputs: list[tuple[str, Source]] = []
        for source in self.sources:
            if not isinstance(source, str | os.PathLike):
                inputs.append(("", source))
                continue
            try:
                inputs.extend(expand_path(source))
            except InputError as exc:
                if len(self.sources) == 1:
                    raise
                self.stats.failures[os.fspath(source)] = str(exc)
        return inputs

    def _one(self, name: str, source: Source) -> Iterator[tuple[str, pl.DataFrame]]:
        if isinstance(source, str | os.PathLike):
            yield from self._file(name, Path(source))
            return
        from ..connectors.base import Connector, ConnectorQuery

        if isinstance(source, Connector):
            source = source.search()
        if isinstance(source, ConnectorQuery):
            yield from self._connector(source)
            return
        not_paths(source)
        iterator = iter(source)
        first = list(islice(iterator, 1))
        if not first:
            return
        items: Iterable[Any] = chain(first, iterator)
        if isinstance(first[0], str):
            yield from self._lines("lines", items, total_bytes=0)
        elif isinstance(first[0], Event):
            yield from self._events(items)
        elif isinstance(first[0], Mapping):
            yield from self._records("records", items)
        else:
            raise InputError(
                f"unsupported input item type {type(first[0]).__name__}: give a path, "
                "lines (str), JSON records (dict) or Event objects"
            )

    def _file(self, name: str, path: Path) -> Iterator[tuple[str, pl.DataFrame]]:
        """A file's events, read through one handle. Gzip files (and gzip on stdin) are
        decompressed on the fly (JSON arrays too). A
        :class:`~.parsers._blocks.BlockParser` gets raw blocks of lines, any other parser
        decoded lines."""
        if str(path) == "-":
            import sys

            stdin = Replay(open_stream(sys.stdin.buffer, name, self.limits))
            yield from self._binary(name, stdin, 0)
            return
        if not path.exists():
            raise InputError(f"{path}: no such file")
        if path.is_dir():
            raise InputError(f"{path}: is a directory; pass the log files inside it")
        total = path.stat().st_size
        if total == 0:
            self.stats.formats[name] = "empty"
            return
        raw = open_binary(path)  # one handle: sniffing rewinds it, nothing reopens the file
        compressed = total if isinstance(raw, gzip.GzipFile) else None
        # progress through a gzip file: how far into the compressed bytes its reader is
        where = _compressed_position(raw) if compressed else None
        with LimitedReader(raw, name, self.limits, compressed) as fh:
            yield from self._binary(name, fh, total, where)

    def _binary(
        self,
        name: str,
        fh: LimitedReader | Replay,
        total: int,
        where: Callable[[], int] | None = None,
    ) -> Iterator[tuple[str, pl.DataFrame]]:
        """An opened input: a JSON array, blocks for a block parser, or decoded lines."""
        head = fh.read(1 << 16)
        if not head:  # a gzip file of nothing
            self.stats.formats[name] = "empty"
            return
        fh.seek(0)
        if head.lstrip()[:1] == b"[":
            fh.check_lines = False  # a JSON array may be one long line
            yield from self._json_array(name, fh, total if where is None else 0)
            return
        fmt = self.input_format
        if fmt is None:
            # small reads: only the start is decoded, and read again after the rewind
            fmt = detect_format(list(islice(read_lines(fh, 1 << 16), 200)), name)
            fh.seek(0)
        if issubclass(get_parser(fmt), BlockParser):
            yield from self._blocks(name, fmt, fh, total_bytes=total, where=where)
        elif issubclass(get_parser(fmt), SeriesParser):
            yield from self._series(name, fmt, fh, total_bytes=total, where=where)
        else:
            yield from self._lines(name, read_lines(fh), total_bytes=total, fmt=fmt, where=where)

    def _blocks(
        self,
        name: str,
        fmt: str,
        fh: Readable,
        total_bytes: int,
        where: Callable[[], int] | None = None,
    ) -> Iterator[tuple[str, pl.DataFrame]]:
        """Hand a :class:`~.parsers._blocks.BlockParser` whole blocks of raw lines (about
        ``chunk_lines`` each); the lines of each block are counted here, not by the parser."""
        parser = get_parser(fmt)()
        assert isinstance(parser, BlockParser)
        self.stats.formats[name] = fmt
        line_no, done_bytes = 1, 0
        for block in read_ahead(read_blocks(fh, self.chunk_lines)):
            with naive_zone(self.timezone):
                parsed = parser.parse_block(block, line_no, name)
            yield from self._account(name, block.lines, parsed)
            line_no += block.lines
            if self.progress is not None:
                done_bytes += len(block.data)
                done = done_bytes if where is None else where()
                self.progress(self.stats.lines, min(done, total_bytes), total_bytes)

    def _series(
        self,
        name: str,
        fmt: str,
        fh: Readable,
        total_bytes: int,
        where: Callable[[], int] | None = None,
    ) -> Iterator[tuple[str, pl.DataFrame]]:
        """Decoded lines, ``chunk_lines`` at a time as one polars series each, for a
        :class:`~.parsers._blocks.SeriesParser` (the chunks :meth:`_lines` would make)."""
        parser = get_parser(fmt)()
        assert isinstance(parser, SeriesParser)
        line_no, done_bytes = 1, 0
        for chunk in read_line_series(fh, self.chunk_lines):
            self.stats.formats[name] = fmt  # once its first lines are read, as in _lines
            with naive_zone(self.timezone):
                parsed = parser.parse_series(chunk, line_no, name)
            yield from self._account(name, chunk.len(), parsed)
            line_no += chunk.len()
            if self.progress is not None:
                done_bytes += int(chunk.str.len_chars().sum()) + chunk.len()
                done = done_bytes if where is None else where()
                self.progress(self.stats.lines, min(done, total_bytes), total_bytes)

    def _lines(
        self,
        name: str,
        lines: Iterable[str],
        total_bytes: int,
        fmt: str | None = None,
        where: Callable[[], int] | None = None,
    ) -> Iterator[tuple[str, pl.DataFrame]]:
        """Decoded lines, parsed ``chunk_lines`` at a time by ``fmt`` (the forced or detected
        format when None)."""
        iterator = iter(lines)
        first_chunk = list(islice(iterator, self.chunk_lines))
        if not first_chunk:
            return
        fmt = fmt or self.input_format or detect_format(first_chunk[:200], name)
        self.stats.formats[name] = fmt
        parser = get_parser(fmt)()
        line_no, done_bytes, chunk = 1, 0, first_chunk
        while chunk:
            if fmt == "ecs":
                self._line_ids(name, chunk, line_no)
            with naive_zone(self.timezone):
                parsed = parser.parse_chunk(chunk, line_no, name)
            yield from self._account(name, len(chunk), parsed)
            line_no += len(chunk)
            if self.progress is not None:
                done_bytes += sum(len(x) + 1 for x in chunk)
                done = done_bytes if where is None else where()
                self.progress(self.stats.lines, min(done, total_bytes), total_bytes)
            chunk = list(islice(iterator, self.chunk_lines))

    def _json_array(
        self, name: str, fh: Rewindable, total_bytes: int
    ) -> Iterator[tuple[str, pl.DataFrame]]:
        """A file holding one JSON array (``fh`` at its start): its elements are records."""
        try:
            data = json.load(fh)
        except (json.JSONDecodeError, UnicodeDecodeError):
            # Not a valid array: fall back to line-wise reading so each bad line is a dead letter.
            fh.seek(0)
            yield from self._lines(name, read_lines(fh), total_bytes)
            return
        if not isinstance(data, list):
            raise InputError(f"{name}: top-level JSON is {type(data).__name__}, expected an array")
        yield from self._records(name, data)

    def _records(self, name: str, records: Iterable[Any]) -> Iterator[tuple[str, pl.DataFrame]]:
        iterator = iter(records)
        head = list(islice(iterator, _SNIFF_LINES))
        fmt = self.input_format or detect_records(head)
        parser = get_parser(fmt)()
        if not isinstance(parser, JsonParser):
            raise UnknownFormatError(
                f"{name}: {fmt!r} is not a JSON format; it cannot read records"
            )
        self.stats.formats[name] = fmt
        iterator = chain(head, iterator)
        number = 1
        while chunk := list(islice(iterator, self.chunk_lines)):
            for offset, obj in enumerate(chunk):
                caller_id = record_id(obj) if isinstance(obj, Mapping) else None
                if caller_id is not None:
                    self.ids.add(name, number + offset, caller_id)
            with naive_zone(self.timezone):
                parsed = records_chunk(parser, chunk, number, name)
            yield from self._account(name, len(chunk), parsed)
            number += len(chunk)

    def _line_ids(self, name: str, chunk: Sequence[str], first: int) -> None:
        for offset, line in enumerate(chunk):
            caller_id = line_id(line)
            if caller_id is not None:
                self.ids.add(name, first + offset, caller_id)

    def _events(self, events: Iterable[Event]) -> Iterator[tuple[str, pl.DataFrame]]:
        by_source: dict[str, list[dict[str, Any]]] = {}
        for n, event in enumerate(events, start=1):
            match = _ID_RE.match(event.event_id)
            src, line = (match["source"], int(match["line"])) if match else ("events", n)
            if not match and event.event_id:
                self.ids.add(src, line, event.event_id)
            row = event.model_dump(exclude={"event_id"})
            row["line"] = line
            by_source.setdefault(src, []).append(row)
        for src, rows in by_source.items():
            self.stats.formats[src] = "events"
            yield from self._account(src, len(rows), ParsedChunk(rows_to_frame(rows, "events")))

    def _connector(self, query: ConnectorQuery) -> Iterator[tuple[str, pl.DataFrame]]:
        """Events of a connector search, numbered in read order, with its dead letters and the
        records it skipped (connectors may keep ``dead_letters`` and a ``skipped`` count).

        Events are numbered ``{connector}:{k}``, k counting the events read (the connectors
        read in a deterministic order: ``@timestamp``, then the SIEM's own tie-breaker); the
        document's own id (``{index}:{_id}``, ``{topic}:{partition}:{offset}``) is kept in
        :attr:`ids` and is the event's id in the report.
        """
        name = query.name
        self.stats.formats[name] = f"connector:{name}"
        for n_lines, parsed in connector_chunks(query, self.chunk_lines, self.timezone, self.ids):
            yield from self._account(name, n_lines, parsed)
            if self.progress is not None:
                self.progress(self.stats.lines, 0, 0)

    def _account(
        self, name: str, n_lines: int, parsed: ParsedChunk
    ) -> Iterator[tuple[str, pl.DataFrame]]:
        n_events, n_dead = parsed.events.height, len(parsed.dead_letters)
        if n_events + n_dead + parsed.skipped != n_lines:
            raise AssertionError(
                f"parser accounting bug in {name}: {n_lines} lines but {n_events} events + "
                f"{n_dead} dead letters + {parsed.skipped} skipped"
            )
        self.stats.lines += n_lines
        self.stats.events += n_events
        self.stats.dead_letters += n_dead
        self.stats.skipped_lines += parsed.skipped
        room = self.dead_letter_limit - len(self.dead_letters)
        if room > 0:
            self.dead_letters.extend(parsed.dead_letters[:room])
        if self._dl_file is not None:
            for letter in parsed.dead_letters:
                self._dl_file.write(letter.model_dump_json() + "\n")
        if n_events:
            yield name, parsed.events.with_columns(pl.lit(name).alias("source"))


def schema_with_source() -> dict[str, pl.DataType]:
    """Schema of the frames :class:`EventStream` yields."""
    return {**EVENT_SCHEMA, "source": pl.String()}


def _compressed_position(raw: object) -> Callable[[], int] | None:
    """The offset of a gzip reader in its compressed file (None when it cannot be told)."""
    inner = getattr(raw, "fileobj", None)
    tell = getattr(inner, "tell", None)
    return tell if callable(tell) else None
