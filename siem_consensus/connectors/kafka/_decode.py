"""Decoding for the Kafka connector: consumer records -> events and dead letters.

Each message value is one record, an ECS JSON document or a raw log line, parsed by the
project's parsers: the forced ``input_format``, else the format detected per message
(:func:`~siem_consensus.parsers.detect.detect_format`, trying the format last detected for that kind
of message first). A message becomes an :class:`~siem_consensus.models.Event` with id
``{topic}:{partition}:{offset}`` or a :class:`~siem_consensus.models.DeadLetter` (source
``{topic}:{partition}``, line = offset).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from pydantic import ValidationError

from ...errors import UnknownFormatError
from ...models import DeadLetter, Event
from ...parsers.base import PARSERS, Parser, excerpt, get_parser
from ...parsers.detect import detect_format

_NO_FORMAT: Final = (
    "no input format recognises this message; set input_format to force one "
    "(siem-consensus formats lists them)"
)


class Decoder:
    """Turns consumer records into events and dead letters (one parser instance per format)."""

    def __init__(self, topic: str, input_format: str | None) -> None:
        self.topic = topic
        self.input_format = input_format
        self._last: dict[bool, str] = {}  # last detected format, for JSON objects and the rest
        self._parsers: dict[str, Parser] = {}

    def convert(self, records: Sequence[Any]) -> tuple[list[Event], list[DeadLetter]]:
        """Events and dead letters of consecutive records, each in record order."""
        events: list[tuple[int, Event]] = []
        letters: list[tuple[int, DeadLetter]] = []
        groups: dict[str, list[tuple[int, str]]] = {}
        for n, record in enumerate(records):
            text, problem = self._text(record.value)
            fmt = None if problem else self._format(text)
            if fmt is None:
                letters.append((n, self._dead(record, problem or _NO_FORMAT, text, "kafka")))
            else:
                groups.setdefault(fmt, []).append((n, text))
        for fmt, items in groups.items():
            self._parse(fmt, items, records, events, letters)
        events.sort(key=lambda pair: pair[0])
        letters.sort(key=lambda pair: pair[0])
        return [event for _, event in events], [letter for _, letter in letters]

    @staticmethod
    def _text(value: bytes | None) -> tuple[str, str | None]:
        if value is None:
            return "", "message has no value (a tombstone, i.e. a deletion marker)"
        text = value.decode("utf-8", errors="replace").rstrip("\r\n")
        return text, None if text.strip() else "empty message"

    def _format(self, text: str) -> str | None:
        """The forced format; else the last one detected for this kind of message if it
        recognises the message; else the first registered format that does."""
        if self.input_format is not None:
            return self.input_format
        kind = text.lstrip().startswith("{")
        last = self._last.get(kind)
        if last is not None and PARSERS[last].sniff([text]) >= 0.5:
            return last
        try:
            fmt = detect_format([text], self.topic)
        except UnknownFormatError:
            return None
        self._last[kind] = fmt
        return fmt

    def _parse(
        self,
        fmt: str,
        items: list[tuple[int, str]],
        records: Sequence[Any],
        events: list[tuple[int, Event]],
        letters: list[tuple[int, DeadLetter]],
    ) -> None:
        parser = self._parsers.get(fmt) or self._parsers.setdefault(fmt, get_parser(fmt)())
        parsed = parser.parse_chunk([text for _, text in items], 1, self.topic)
        left = set(range(1, len(items) + 1))  # 1-based positions in ``items``
        for row in parsed.events.iter_rows(named=True):
            position = row.pop("line")
            left.discard(position)
            n = items[position - 1][0]
            record = records[n]
            try:
                event = Event(event_id=f"{record.topic}:{record.partition}:{record.offset}", **row)
            except ValidationError as exc:
                reason = f"not a valid event: {exc.errors()[0]['msg']}"
                letters.append((n, self._dead(record, reason, items[position - 1][1], fmt)))
                continue
            events.append((n, event))
        for letter in parsed.dead_letters:
            left.discard(letter.line)
            n, text = items[letter.line - 1]
            letters.append((n, self._dead(records[n], letter.reason, text, fmt)))
        for position in sorted(left):  # parsers skip header, comment and blank lines
            n, text = items[position - 1]
            reason = "no event in this message (a header, comment or blank line)"
            letters.append((n, self._dead(records[n], reason, text, fmt)))

    def _dead(self, record: Any, reason: str, text: str, parser: str) -> DeadLetter:
        return DeadLetter(
            source=f"{record.topic}:{record.partition}",
            line=record.offset,
            reason=reason,
            raw_excerpt=excerpt(text),
            parser=parser,
        )
