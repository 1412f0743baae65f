"""Inputs that explain themselves: folders, globs, damaged files among good ones, caps, the
wrong command for a format, and reasons that say what is wrong."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from cli_helpers import run_main

from siem_consensus import analyze_firewall
from siem_consensus.cli import main
from siem_consensus.errors import InputError
from siem_consensus.generators.firewall import scenario_1
from siem_consensus.parsers.reading import Limits
from siem_consensus.sources import EventStream

DATA = Path(__file__).parent / "data" / "parsers"
Captured = pytest.CaptureFixture[str]


@pytest.fixture(scope="module")
def asa_text() -> str:
    return "\n".join(scenario_1(seed=7)) + "\n"


def _report(out: str) -> dict[str, object]:
    report: dict[str, object] = json.loads(out)
    return report


def test_folder_is_read_recursively_and_names_stay_apart(tmp_path: Path, asa_text: str) -> None:
    logs = tmp_path / "logs"
    (logs / "a").mkdir(parents=True)
    (logs / "b").mkdir()
    (logs / "a" / "fw.log").write_text(asa_text)
    (logs / "b" / "fw.log.gz").write_bytes(gzip.compress(asa_text.encode()))
    (logs / ".hidden").write_text("not read\n")
    stream = EventStream([logs], input_format="asa")
    batches = list(stream)
    assert stream.stats.formats == {"logs/a/fw.log": "asa", "logs/b/fw.log.gz": "asa"}
    assert stream.stats.events == 2 * len(asa_text.splitlines())
    assert {name for name, _ in batches} == set(stream.stats.formats)


def test_globs_for_every_detector(
    tmp_path: Path, asa_text: str, monkeypatch: pytest.MonkeyPatch, capsys: Captured
) -> None:
    """The program expands the pattern (quoted, the shell would not): in-process is enough."""
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "one.log").write_text(asa_text)
    (tmp_path / "x" / "two.log").write_text(asa_text)
    shutil.copy(DATA / "ids" / "suricata_eve.jsonl", tmp_path / "x" / "eve.json")
    done = run_main(["firewall", "x/*.log", "--format", "json"], tmp_path, monkeypatch, capsys)
    assert done.returncode == 0, done.stderr
    assert set(_report(done.stdout)["input"]["formats"]) == {"one.log", "two.log"}  # type: ignore[index]
    ids = run_main(["ids", "x/**/eve.json", "--format", "json"], tmp_path, monkeypatch, capsys)
    assert ids.returncode == 0, ids.stderr
    assert _report(ids.stdout)["input"]["formats"] == {"eve.json": "suricata"}  # type: ignore[index]


def test_a_damaged_file_among_several(
    tmp_path: Path, asa_text: str, monkeypatch: pytest.MonkeyPatch, capsys: Captured
) -> None:
    good = tmp_path / "good.log"
    good.write_text(asa_text)
    whole = gzip.compress(asa_text.encode())
    (tmp_path / "cut.log.gz").write_bytes(whole[: len(whole) // 2])
    args = ["firewall", "good.log", "cut.log.gz", "missing.log", "--format", "json"]
    done = run_main(args, tmp_path, monkeypatch, capsys)
    assert done.returncode == 3, done.stderr
    report = _report(done.stdout)
    failures = report["input"]["failures"]  # type: ignore[index]
    assert set(failures) == {"cut.log.gz", "missing.log"}
    assert "truncated or corrupt gzip" in failures["cut.log.gz"]
    assert report["incidents"], "the good file was analysed"
    # damaged before its first lines: "not read", each name said once
    assert "input cut.log.gz not read: truncated or corrupt gzip" in done.stderr
    assert "input missing.log not read: no such file\n" in done.stderr


def test_a_file_damaged_half_way(
    tmp_path: Path, asa_text: str, monkeypatch: pytest.MonkeyPatch, capsys: Captured
) -> None:
    (tmp_path / "good.log").write_text(asa_text)
    # 207,000 lines cut at 3/4: more than one batch of lines (100,000) is read before the damage
    lines = [f"{line} [0x{n:x}, 0x0]" for n, line in enumerate(asa_text.splitlines() * 150)]
    whole = gzip.compress("\n".join(lines).encode(), compresslevel=1)
    (tmp_path / "cut.log.gz").write_bytes(whole[: len(whole) * 3 // 4])
    args = ["firewall", "good.log", "cut.log.gz", "--format", "json"]
    done = run_main(args, tmp_path, monkeypatch, capsys)
    assert done.returncode == 3, done.stderr
    read = _report(done.stdout)["input"]
    assert read["formats"]["cut.log.gz"] == "asa"  # type: ignore[index]
    assert read["events"] > len(asa_text.splitlines())  # type: ignore[index]  # cut.log.gz's too
    assert "input cut.log.gz not read to its end (the lines before were analysed): " in done.stderr


def test_every_input_failing_is_an_error() -> None:
    with pytest.raises(InputError, match="no input could be read"):
        list(EventStream([Path("/nonexistent/a.log"), Path("/nonexistent/b.log")]))


def test_line_length_cap(tmp_path: Path, asa_text: str) -> None:
    log = tmp_path / "long.log"
    log.write_text(asa_text + "x" * 5000 + "\n" + asa_text)
    line = len(asa_text.splitlines()) + 1
    with pytest.raises(InputError, match=f"line {line:,} is longer than 4 KiB"):
        list(EventStream([log], input_format="asa", limits=Limits(max_line_bytes=4096)))
    # under the default cap the long line is one dead letter, not an error
    stream = EventStream([log], input_format="asa")
    list(stream)
    assert stream.stats.dead_letters == 1


def test_a_line_longer_than_a_read_piece(tmp_path: Path, asa_text: str) -> None:
    """The cap holds across reads (a 5 MiB line, read in pieces of at most 4 MiB), also for a
    last line without a newline."""
    for tail in ("\n", ""):
        log = tmp_path / "huge.log"
        log.write_text(asa_text + "y" * (5 << 20) + tail)
        line = len(asa_text.splitlines()) + 1
        with pytest.raises(InputError, match=f"line {line:,} is longer than 1 MiB"):
            list(EventStream([log], input_format="asa", limits=Limits(max_line_bytes=1 << 20)))


def test_decompressed_size_cap_and_gzip_ratio(tmp_path: Path, asa_text: str) -> None:
    log = tmp_path / "a.log.gz"
    log.write_bytes(gzip.compress(asa_text.encode()))
    with pytest.raises(InputError, match="more than 64 KiB read"):
        list(EventStream([log], limits=Limits(max_input_bytes=64 << 10)))
    blank = tmp_path / "blank.gz"
    blank.write_bytes(gzip.compress(b"\n" * (40 << 20)))  # ~40 KB that expands 1000x
    with pytest.raises(InputError, match=r"gzip expands \d+x \(more than 300x\)"):
        list(EventStream([blank], input_format="asa"))
    # a real log that compresses well (AIT-ADS alert files reach 138x) is not refused: 2 MiB
    # (the ratio is checked past 1 MiB) of 20 log lines again and again
    head = "".join(asa_text.splitlines(keepends=True)[:20])
    text = (head * ((2 << 20) // len(head) + 1)).encode()
    repetitive = tmp_path / "alerts.log.gz"
    repetitive.write_bytes(gzip.compress(text))
    assert 138 < len(text) / repetitive.stat().st_size < 300
    stream = EventStream([repetitive], input_format="asa")
    assert sum(len(batch) for _, batch in stream) == text.count(b"\n")


def test_cli_caps_are_flags(tmp_path: Path, asa_text: str) -> None:
    (tmp_path / "a.log").write_text(asa_text)
    assert main(["firewall", str(tmp_path / "a.log"), "--max-input-bytes", "10KiB"]) == 3


def test_wrong_command_for_the_format_names_the_right_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    eve = tmp_path / "eve.json"
    shutil.copy(DATA / "ids" / "suricata_eve.jsonl", eve)
    assert main(["firewall", str(eve), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "eve.json is suricata" in err and "run: siem-consensus ids" in err
    # the suggested command works from where the user is: the path as given
    assert f"run: siem-consensus ids {eve}\n" in err


def test_wrong_commands_in_a_folder_name_each_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    shutil.copy(DATA / "ids" / "suricata_eve.jsonl", logs / "eve.json")
    shutil.copy(DATA / "openssh.log", logs / "auth.log")
    assert main(["firewall", str(logs), "--no-progress"]) == 0
    err = capsys.readouterr().err
    warning = "is {}, which `firewall` does not analyse; run: siem-consensus {} {}\n"
    assert "logs/eve.json " + warning.format("suricata", "ids", logs / "eve.json") in err
    assert "logs/auth.log " + warning.format("openssh", "auth", logs / "auth.log") in err
    # every input of one other family: one warning with the arguments as given
    shutil.copy(logs / "eve.json", tmp_path / "b.json")
    given = [str(logs / "eve.json"), str(tmp_path / "b.json")]
    assert main(["firewall", *given, "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert err.count("warning:") == 1
    assert "2 inputs are suricata" in err
    assert f"run: siem-consensus ids {given[0]} {given[1]}\n" in err


def test_all_dead_summarises_the_reasons(
    tmp_path: Path, asa_text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "asa.log"
    log.write_text(asa_text)
    assert main(["firewall", str(log), "--input-format", "zeek"]) == 3
    err = capsys.readouterr().err
    assert "every line was rejected" in err
    # header-less Zeek: the reason says there was no #fields header
    assert "no #fields header" in err and "#fields declares" not in err


def test_mostly_dead_warns(
    tmp_path: Path, asa_text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = asa_text.splitlines()
    log = tmp_path / "mixed.log"
    log.write_text("\n".join(lines[:100] + ["garbage line"] * 300) + "\n")
    assert main(["firewall", str(log), "--input-format", "asa"]) == 0
    assert "300 of 400 lines rejected" in capsys.readouterr().err


def test_api_refuses_a_list_of_path_strings(tmp_path: Path, asa_text: str) -> None:
    from siem_consensus.errors import UsageError

    (tmp_path / "a.log").write_text(asa_text)
    with pytest.raises(UsageError, match="Path"):
        analyze_firewall([str(tmp_path / "a.log")])


def test_files_of_no_known_format_in_a_folder(
    tmp_path: Path, asa_text: str, monkeypatch: pytest.MonkeyPatch, capsys: Captured
) -> None:
    """A README beside the logs: named once each, the list of formats said once, exit 3."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "fw.log").write_text(asa_text)
    (logs / "README.md").write_text("# notes\n")
    (logs / "LICENSE").write_text("MIT License\n")
    done = run_main(["firewall", "logs", "--format", "json"], tmp_path, monkeypatch, capsys)
    assert done.returncode == 3, done.stderr
    assert _report(done.stdout)["incidents"], "the log was analysed"
    err = done.stderr
    assert (
        "input logs/README.md not read: could not detect the input format (first line: '# notes')\n"
        in err
    )
    assert "2 input(s) in no format known here: `siem-consensus formats` lists them" in err
    assert err.count("cert-device") == 0  # the list of 22 formats is not repeated per file
