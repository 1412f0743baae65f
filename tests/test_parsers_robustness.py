"""Every parser, every bad input: nothing crashes and every line is accounted for.

Covers format detection of each fixture, physical line numbers in event ids, empty and binary
files, truncated and oversized lines, CRLF endings, JSON array files, unknown formats, and
Hypothesis properties over arbitrary and mutated lines for every registered parser.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siem_consensus.errors import UnknownFormatError
from siem_consensus.parsers import PARSERS
from siem_consensus.parsers.base import MAX_LINE_CHARS, ParsedChunk, excerpt
from siem_consensus.sources import EventStream, detect_format

DATA = Path(__file__).parent / "data" / "parsers"
FIXTURES = {
    "asa.log": "asa",
    "iptables.log": "iptables",
    "pfsense.log": "pfsense",
    "paloalto.log": "paloalto",
    "zeek_conn.log": "zeek",
    "zeek_conn.json": "zeek-json",
    "cicflowmeter_2017.csv": "cicflowmeter",
    "cicflowmeter_v4.csv": "cicflowmeter",
    "ecs.jsonl": "ecs",
    "ids/suricata_eve.jsonl": "suricata",
    "ids/fastlog.log": "fastlog",
    "ids/wazuh_alerts.json": "wazuh",
    "ids/splunk_export.json": "splunk",
    "ids/ait_ads.csv": "ait-ads",
    "cert/logon.csv": "cert-logon",
    "cert/device_r6.csv": "cert-device",
    "cert/file_r6.csv": "cert-file",
    "cert/http_r4.csv": "cert-http",
    "cert/email_r4.csv": "cert-email",
    "cert/combined.csv": "cert",
    "openssh.log": "openssh",
    "zeek_ssh.log": "zeek-ssh",
    "zeek_ssh.json": "zeek-ssh-json",
    "zeek_dns.log": "zeek-dns",
    "zeek_dns.json": "zeek-dns-json",
    "ecs_auth.jsonl": "ecs",
}
LINE_FIXTURES = sorted(FIXTURES)


def _run(paths: list[Path], **kwargs: object) -> tuple[EventStream, list[int], dict[int, str]]:
    stream = EventStream(paths, **kwargs)  # type: ignore[arg-type]
    lines = [line for _, frame in stream for line in frame["line"].to_list()]
    dead = {letter.line: letter.reason for letter in stream.dead_letters}
    stats = stream.stats
    assert stats.events + stats.dead_letters + stats.skipped_lines == stats.lines
    return stream, lines, dead


def test_every_parser_has_a_fixture() -> None:
    assert set(FIXTURES.values()) == set(PARSERS)


@pytest.mark.parametrize("name", LINE_FIXTURES)
def test_fixture_detected_as_its_own_format(name: str) -> None:
    sample = (DATA / name).read_text(encoding="utf-8").splitlines()
    assert detect_format(sample, name) == FIXTURES[name]
    lines = [line for line in sample if line.strip()][:20]
    own = PARSERS[FIXTURES[name]].sniff(lines)
    others = {fmt: cls.sniff(lines) for fmt, cls in PARSERS.items() if fmt != FIXTURES[name]}
    assert all(score < 0.5 for score in others.values()), others
    assert own >= 0.5


@pytest.mark.parametrize("name", LINE_FIXTURES)
def test_event_ids_are_physical_lines(name: str) -> None:
    path = DATA / name
    raw = path.read_text(encoding="utf-8").splitlines()
    stream, lines, dead = _run([path])
    assert stream.stats.lines == len(raw)
    assert len(set(lines)) == len(lines) and not set(lines) & set(dead)
    assert all(raw[n - 1].strip() for n in lines)
    for letter in stream.dead_letters:
        assert letter.raw_excerpt == excerpt(raw[letter.line - 1])
    for _, frame in EventStream([path]):
        ids = [
            f"{source}:{line}" for source, line in zip(frame["source"], frame["line"], strict=True)
        ]
        assert all(event_id.startswith(f"{Path(name).name}:") for event_id in ids)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.log"
    path.write_bytes(b"")
    stream, lines, _ = _run([path])
    assert (stream.stats.lines, lines, stream.stats.formats) == (0, [], {"empty.log": "empty"})


def test_blank_only_file_has_no_format(tmp_path: Path) -> None:
    path = tmp_path / "blank.log"
    path.write_text("\n  \n\t\n", encoding="utf-8")
    with pytest.raises(UnknownFormatError, match="no non-blank lines"):
        _run([path])
    stream, _, _ = _run([path], input_format="asa")
    assert stream.stats.skipped_lines == stream.stats.lines == 3


def _garbage(tmp_path: Path) -> Path:
    rng = random.Random(1234)
    data = bytes(rng.randrange(256) for _ in range(20_000)) + b"\x00\x00\n\x00tail"
    path = tmp_path / "garbage.bin"
    path.write_bytes(data)
    return path


def test_binary_garbage_is_not_detected(tmp_path: Path) -> None:
    with pytest.raises(UnknownFormatError) as info:
        _run([_garbage(tmp_path)])
    message = str(info.value)
    assert "--input-format" in message
    assert all(fmt in message for fmt in PARSERS)


@pytest.mark.parametrize("fmt", sorted(PARSERS))
def test_binary_garbage_forced_format_is_accounted(tmp_path: Path, fmt: str) -> None:
    stream, lines, dead = _run([_garbage(tmp_path)], input_format=fmt)
    assert stream.stats.lines > 10
    assert lines == []
    assert any("NUL" in reason for reason in dead.values())


@pytest.mark.parametrize("name", LINE_FIXTURES)
def test_truncated_lines_mixed_into_a_good_file(tmp_path: Path, name: str) -> None:
    raw = (DATA / name).read_text(encoding="utf-8").splitlines()
    rng = random.Random(name)
    mixed = [raw[0]]
    for line in raw[1:]:
        mixed.append(line)
        if line and not line.startswith("#"):
            mixed.append(line[: rng.randrange(len(line))])
    path = tmp_path / Path(name).name
    path.write_text("\n".join(mixed) + "\n", encoding="utf-8")
    clean, clean_lines, _ = _run([DATA / name])
    stream, _, dead = _run([path], input_format=FIXTURES[name])
    assert stream.stats.lines == len(mixed)
    assert stream.stats.events >= clean.stats.events
    assert len(dead) >= len(clean_lines) // 2


@pytest.mark.parametrize("name", LINE_FIXTURES)
def test_ten_megabyte_line_inside_a_good_file(tmp_path: Path, name: str) -> None:
    raw = (DATA / name).read_text(encoding="utf-8").splitlines()
    seed = next(line for line in raw[3:] if line.strip())
    huge = seed * (10_000_000 // len(seed) + 1)
    path = tmp_path / Path(name).name
    path.write_text("\n".join([*raw[:5], huge, *raw[5:]]) + "\n", encoding="utf-8")
    clean, _, _ = _run([DATA / name])
    stream, _, dead = _run([path])
    assert stream.stats.formats[Path(name).name] == FIXTURES[name]
    assert stream.stats.events == clean.stats.events
    assert dead[6] == f"line is {len(huge):,} characters, over the {MAX_LINE_CHARS:,} limit"


def test_unknown_format_error_lists_formats(tmp_path: Path) -> None:
    path = tmp_path / "prose.txt"
    path.write_text("It was a bright cold day in April.\nThe clocks were striking 13.\n")
    with pytest.raises(UnknownFormatError) as info:
        _run([path])
    message = str(info.value)
    assert "prose.txt" in message and "--input-format" in message
    assert ", ".join(sorted(PARSERS)) in message


@pytest.mark.parametrize("name", LINE_FIXTURES)
def test_crlf_line_endings(tmp_path: Path, name: str) -> None:
    raw = (DATA / name).read_bytes()
    path = tmp_path / Path(name).name
    path.write_bytes(raw.replace(b"\n", b"\r\n"))
    lf = [frame.drop("source") for _, frame in EventStream([DATA / name])]
    crlf = [frame.drop("source") for _, frame in EventStream([path])]
    assert len(lf) == len(crlf) and all(a.equals(b) for a, b in zip(lf, crlf, strict=True))


def test_json_array_file_uses_element_numbers(tmp_path: Path) -> None:
    stream, lines, dead = _run([DATA / "ecs_array.json"])
    assert stream.stats.formats == {"ecs_array.json": "ecs"}
    assert (lines, sorted(dead)) == ([1, 2, 3, 4], [5, 6, 7])
    assert dead[5] == "expected a JSON object, got str"
    records = json.loads((DATA / "ecs_array.json").read_text())
    path = tmp_path / "one.json"
    path.write_text(json.dumps(records[3:4]))
    assert _run([path])[1] == [1]


_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\n"), max_size=120)
_SAMPLES = [
    line for name in LINE_FIXTURES for line in (DATA / name).read_text().splitlines() if line
]


@st.composite
def _line(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(_TEXT)
    line = draw(st.sampled_from(_SAMPLES))
    cut = draw(st.integers(0, len(line)))
    if draw(st.booleans()):
        return line[:cut]
    noise = draw(st.text(st.sampled_from(',;:"{}[]/ \t\x00\r%=#-.0123456789aZ'), max_size=4))
    return line[:cut] + noise + line[cut:]


def _accounted(parsed: ParsedChunk, first: int, n: int) -> None:
    events = parsed.events["line"].to_list()
    dead = [letter.line for letter in parsed.dead_letters]
    assert len(events) + len(dead) + parsed.skipped == n
    assert set(events).isdisjoint(dead) and len(set(events) | set(dead)) == len(events + dead)
    assert all(first <= line < first + n for line in events + dead)


@pytest.mark.parametrize("fmt", sorted(PARSERS))
@given(lines=st.lists(_line(), max_size=15), first=st.integers(1, 10**6))
def test_arbitrary_lines_never_raise_and_are_accounted(
    fmt: str, lines: list[str], first: int
) -> None:
    parser = PARSERS[fmt]()
    parsed = parser.parse_chunk(lines, first, "fuzz")
    _accounted(parsed, first, len(lines))
    PARSERS[fmt].sniff([line for line in lines if line.strip()])


@pytest.mark.parametrize("fmt", sorted(PARSERS))
def test_deeply_nested_json_is_a_dead_letter(fmt: str) -> None:
    deep = ['{"a":' * 50_000 + "1" + "}" * 50_000, "[" * 100_000]
    assert PARSERS[fmt].sniff(deep) == 0.0
    parsed = PARSERS[fmt]().parse_chunk(deep, 1, "deep")
    assert (parsed.events.height, len(parsed.dead_letters)) == (0, 2)
