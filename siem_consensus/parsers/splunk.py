"""Splunk search results exported as JSON, each ``_raw`` parsed by this project's own parsers.

Accepted records, one per line, or the elements of a JSON array file (``EventStream`` reads
arrays with the ``ecs`` parser unless told otherwise: pass ``input_format="splunk"``)::

    {"preview": false, "offset": 0, "result": {"_raw": "...",
     "_time": "2022-01-15T02:33:10.000+00:00", "host": "fw01", "source": "/var/log/asa.log",
     "sourcetype": "cisco:asa"}}
    {"_raw": "...", "_time": "...", "host": "...", "sourcetype": "..."}

The first is the ``output_mode=json`` export stream (``/services/search/jobs/export``), the
second a plain result. Export lines without a ``result`` (search ``messages``) and
``preview: true`` rows (provisional, superseded by the final rows) are skipped lines.

Each ``_raw`` is parsed by a registered parser, chosen per record:

1. the ``sourcetype`` hint (lower-cased, split on ``:``, ``_``, ``-``): ``fast``/``snort*`` ->
   ``fastlog``; ``suricata``/``eve`` -> ``suricata``; ``wazuh`` -> ``wazuh``; ``asa``/``ftd``
   (``cisco:asa``) -> ``asa``; ``iptables``/``netfilter``/``ufw`` -> ``iptables``; ``pan``
   (``pan:traffic``) -> ``paloalto``; ``pfsense``/``filterlog`` -> ``pfsense``;
   ``zeek``/``bro`` with ``json`` -> ``zeek-json``, without -> ``zeek`` (``zeek-dns`` and
   ``zeek-ssh`` when the sourcetype says ``dns`` or ``ssh``);
2. the format that last parsed a record of the same sourcetype;
3. every parser whose ``sniff`` recognises the single ``_raw`` line, in registry order (not
   ``cicflowmeter``, which needs its header row, ``ait-ads``, a data-set file rather than a log
   line, nor ``splunk`` itself).

The first that parses ``_raw`` gives the columns; its timestamp and host win, ``_time`` and
``host`` fill them in when it has none. Year-less formats (ASA, iptables, Snort) infer their
year against ``_time`` (at most a day after it; the time of the run without one). If the inner
parser says the record carries no event (a Suricata ``stats`` record), the line is skipped.
When nothing parses ``_raw`` the result still becomes an event: ``message`` = ``_raw`` (clipped
to 1,000 characters, untrusted),
``timestamp`` = ``_time``, ``host_name`` = ``host``; nothing is dropped for an unknown or broken
``_raw``. Every event has ``dataset`` = ``splunk``; ``source`` and ``sourcetype`` only steer the
parsing.

Dead letters are for broken Splunk records themselves: not a JSON object, ``result`` not an
object, no ``_raw`` (a table row from a transforming search; export raw events instead), a
``_raw`` that is not text, or a ``_time`` that is neither ISO 8601 nor epoch seconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Final, Protocol, runtime_checkable

from ._ids_common import clip, scrub, to_iso_time
from ._values import GuardedJsonParser, loads_object, parse_epoch, share, to_text
from ._year import SyslogYear
from .base import PARSERS, SKIP, LineError, LineParser, _Skip, register

__all__ = ["SplunkParser"]

_HINTS: Final = (
    (("fast",), "fastlog"),
    (("snort", "snort3"), "fastlog"),
    (("suricata", "eve"), "suricata"),
    (("wazuh",), "wazuh"),
    (("asa", "ftd"), "asa"),
    (("iptables", "netfilter", "ufw"), "iptables"),
    (("pan",), "paloalto"),
    (("pfsense", "filterlog"), "pfsense"),
)
_NOT_PER_LINE: Final = frozenset({"splunk", "ait-ads", "cicflowmeter"})
_INNER_ERRORS: Final = (LineError, ValueError, KeyError, IndexError, TypeError, RecursionError)
_EPOCH: Final = re.compile(r"[0-9]+(?:\.[0-9]*)?")
_TOKENS: Final = re.compile(r"[:_\-\s]+")


@runtime_checkable
class _YearAware(Protocol):
    year: int | SyslogYear


@register
class SplunkParser(GuardedJsonParser):
    """Splunk JSON search results; each ``_raw`` goes to the parser of its format."""

    name: ClassVar[str] = "splunk"
    description: ClassVar[str] = 'Splunk JSON export ({"result": {"_raw": ..., "_time": ...}})'

    def __init__(self) -> None:
        self._parsers: dict[str, LineParser] = {}
        self._learned: dict[str, str] = {}

    @classmethod
    def sniff(cls, lines: Sequence[str]) -> float:
        """Share of lines that are Splunk export records or results with a ``_raw`` field."""
        return share(lines, _is_splunk_line)

    def parse_record(self, obj: dict[str, Any]) -> dict[str, Any] | _Skip:
        """Columns of one Splunk result (see the module docstring).

        Raises:
            LineError: the Splunk record itself is malformed.
        """
        result = _result(obj)
        if result is None:
            return SKIP
        return self.parse_result(result)

    def parse_result(self, result: Mapping[str, Any]) -> dict[str, Any] | _Skip:
        """Columns of one search result (the ``result`` object of an export line).

        This is the per-result step of :meth:`parse_record`, for callers that already hold
        the result, such as the Splunk connector reading ``/services/search/jobs/export``.

        Raises:
            LineError: the result is malformed (no ``_raw``, ``_raw`` not text, bad ``_time``).
        """
        raw = result.get("_raw")
        if not isinstance(raw, str):
            raise LineError(_no_raw(raw))
        when = _splunk_time(result.get("_time"))
        host = to_text(_single(result.get("host")), "host")
        sourcetype = to_text(_single(result.get("sourcetype")), "sourcetype") or ""
        row = self._inner(raw, sourcetype, when)
        if isinstance(row, _Skip):
            return SKIP
        if row is None:
            row = {"message": clip(raw, "_raw")}
        if row.get("timestamp") is None:
            row["timestamp"] = when
        if row.get("host_name") is None:
            row["host_name"] = host
        return scrub(row)

    def _inner(
        self, raw: str, sourcetype: str, when: datetime | None
    ) -> dict[str, Any] | _Skip | None:
        """Columns from the first registered parser that parses ``raw``, or None."""
        for fmt in self._candidates(raw, sourcetype):
            parser = self._parser(fmt)
            if isinstance(parser, _YearAware):
                parser.year = SyslogYear(reference=when)
            try:
                row = parser.parse_line(raw)
            except _INNER_ERRORS:
                continue
            self._learned[sourcetype] = fmt
            return row
        return None

    def _candidates(self, raw: str, sourcetype: str) -> Iterator[str]:
        """Formats to try on ``raw``: the sourcetype's hint, the format learned for it, then
        each parser whose sniff accepts ``raw``. Lazy: sniffing every parser costs more than
        parsing, and is needed only when the guesses fail."""
        if not raw.strip():
            return
        preferred = [_hint(sourcetype), self._learned.get(sourcetype)]
        guesses = [fmt for fmt in dict.fromkeys(preferred) if fmt in PARSERS]
        yield from guesses
        for fmt, cls in PARSERS.items():
            if fmt in _NOT_PER_LINE or fmt in guesses:
                continue
            if issubclass(cls, LineParser) and cls.sniff([raw]) >= 0.5:
                yield fmt

    def _parser(self, fmt: str) -> LineParser:
        parser = self._parsers.get(fmt)
        if parser is None:
            cls = PARSERS[fmt]
            if not issubclass(cls, LineParser):  # pragma: no cover - every parser is a line parser
                raise LineError(f"parser {fmt!r} cannot parse single lines")
            parser = self._parsers[fmt] = cls()
        return parser


def _result(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The result dict of an export line, the record itself, or None for a skipped line."""
    if "result" not in obj and "preview" not in obj:
        return obj
    if obj.get("preview") is True:
        return None
    result = obj.get("result")
    if result is None:
        return None
    if not isinstance(result, Mapping):
        raise LineError(f"Splunk 'result' must be an object, got {type(result).__name__}")
    return result


def _no_raw(raw: object) -> str:
    if raw is None:
        return (
            "Splunk result has no _raw field (a table row from a transforming search?); "
            "export raw events, e.g. '... | fields _raw _time host source sourcetype'"
        )
    return f"Splunk _raw must be a string, got {type(raw).__name__}"


def _single(value: object) -> object:
    """The first value of a multi-valued Splunk field (exported as a JSON list)."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _splunk_time(value: object) -> datetime | None:
    """``_time`` as ISO 8601 (``2022-01-15T02:33:10.000+00:00``) or epoch seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return parse_epoch(value, "_time")
    if isinstance(value, str) and _EPOCH.fullmatch(value.strip()):
        return parse_epoch(value, "_time")
    return to_iso_time(value, "_time")


def _hint(sourcetype: str) -> str | None:
    tokens = set(_TOKENS.split(sourcetype.lower()))
    if tokens & {"zeek", "bro"}:
        kind = next((f"zeek-{log}" for log in ("dns", "ssh") if log in tokens), "zeek")
        return f"{kind}-json" if "json" in tokens else kind
    for names, fmt in _HINTS:
        if tokens.intersection(names):
            return fmt
    return None


def _is_splunk_line(line: str) -> bool:
    if '"_raw"' not in line and '"preview"' not in line:
        return False
    obj = loads_object(line)
    if obj is None:
        return False
    result = obj.get("result")
    if isinstance(result, Mapping):
        return "_raw" in result or "_time" in result
    if "preview" in obj:
        return "messages" in obj or "lastrow" in obj or "offset" in obj
    return "_raw" in obj and ("_time" in obj or "sourcetype" in obj)
