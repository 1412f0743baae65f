"""Progress (``rich``): percent and ETA on a terminal's stderr, nothing on a pipe, off with
``--no-progress`` / ``-q``, no colours with ``NO_COLOR``. The CLI runs as the installed entry
point with its stderr on a pseudo-terminal."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import cli_env, entry_point, run_cli

from siem_consensus.cli._progress import Progress, make_progress

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")

# Select Graphic Rendition codes that set a colour (30-37, 90-97 and 38;5 / 38;2 forms)
_COLOUR = re.compile(rb"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|9[0-7])(?:;[0-9;]*)?m")


@pytest.fixture(scope="module")
def fw_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from siem_consensus.generators.firewall import scenario_1

    folder = tmp_path_factory.mktemp("progress")
    (folder / "fw.log").write_text("\n".join(scenario_1(seed=7)) + "\n", encoding="utf-8")
    return folder


def _on_a_terminal(args: list[str], cwd: Path, **env: str) -> tuple[int, bytes, bytes]:
    """Run the CLI with stderr on a pseudo-terminal, stdout on a pipe: (code, tty, stdout)."""
    import pty

    master, slave = pty.openpty()
    environ = cli_env(**env)
    if "NO_COLOR" not in env:
        environ.pop("NO_COLOR", None)
    environ["TERM"] = "xterm-256color"
    proc = subprocess.Popen(
        [*entry_point(), *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=environ,
    )
    os.close(slave)
    tty = b""
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        tty += chunk
    stdout, _ = proc.communicate(timeout=120)
    os.close(master)
    return proc.returncode, tty, stdout


def test_progress_with_percent_and_eta_on_a_terminal(fw_log: Path) -> None:
    code, tty, stdout = _on_a_terminal(["firewall", "fw.log", "--format", "json"], fw_log)
    assert code == 0, tty
    assert re.search(rb"read [0-9,]+ lines .*100%.* ETA .*0:00:00", tty), tty
    assert _COLOUR.search(tty), "colours expected without NO_COLOR"
    assert tty.rstrip().endswith(b"\x1b[2K")  # the bar is erased at the end
    assert b"\x1b" not in stdout and stdout.startswith(b"{")  # the report is untouched


def test_no_color_keeps_the_bar_without_colours(fw_log: Path) -> None:
    code, tty, _ = _on_a_terminal(["firewall", "fw.log", "--format", "json"], fw_log, NO_COLOR="1")
    assert code == 0 and b"100%" in tty and b"ETA" in tty
    assert not _COLOUR.search(tty), tty


@pytest.mark.parametrize("flag", ["--no-progress", "-q"])
def test_flags_turn_it_off(fw_log: Path, flag: str) -> None:
    code, tty, _ = _on_a_terminal(["firewall", "fw.log", "--format", "json", flag], fw_log)
    assert code == 0 and b"ETA" not in tty and b"\x1b" not in tty


def test_nothing_reaches_a_pipe(fw_log: Path) -> None:
    done = run_cli(["firewall", "fw.log", "--format", "json"], fw_log)
    assert done.returncode == 0
    assert "ETA" not in done.stderr and "\x1b" not in done.stderr and "\r" not in done.stderr


def test_a_bar_only_for_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import pty

    master, slave = pty.openpty()
    read, write = os.pipe()
    with open(slave, "w") as tty, open(write, "w") as pipe:
        monkeypatch.delenv("TERM", raising=False)
        assert make_progress(pipe, enabled=True) is None
        assert make_progress(tty, enabled=False) is None
        assert isinstance(make_progress(tty, enabled=True), Progress)
        monkeypatch.setenv("TERM", "dumb")
        assert make_progress(tty, enabled=True) is None
    os.close(master)
    os.close(read)


def test_eta_restarts_with_each_input() -> None:
    """The rate of the first input must not leak into the second input's ETA."""
    now = [0.0]
    progress = Progress(io.StringIO(), clock=lambda: now[0])
    progress(1, 50, 100)
    now[0] = 10.0
    progress(2, 100, 100)  # first input done: 5 bytes/s
    progress(3, 100, 1000)  # second input, first block
    now[0] = 20.0
    progress(4, 200, 1000)  # 10 bytes/s on this input: 800 bytes left
    [task] = progress.bar.tasks
    assert (task.total, task.completed, task.fields["lines"]) == (1000, 200, 4)
    assert task.time_remaining == pytest.approx(80.0)
    progress.close()


def test_log_records_print_above_the_bar(fw_log: Path) -> None:
    # the second input's ambiguous epoch is logged while the first input's bar is showing
    (fw_log / "a.jsonl").write_text('{"@timestamp": 1768746600, "source.ip": "10.0.0.1"}\n')
    (fw_log / "b.jsonl").write_text('{"@timestamp": 86400, "source.ip": "10.0.0.2"}\n')
    args = ["firewall", "a.jsonl", "b.jsonl", "--format", "json", "--log-level", "warning"]
    code, tty, _ = _on_a_terminal(args, fw_log)
    assert code == 0 and b"ETA" in tty
    plain = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", tty)
    assert re.search(rb"(?:^|[\r\n])siem-consensus: WARNING @timestamp 86400 is ambiguous", plain)


@pytest.mark.parametrize("block_parser", [True, False], ids=["blocks", "lines"])
def test_gzip_inputs_report_progress_through_the_compressed_file(
    tmp_path: Path, block_parser: bool
) -> None:
    """A .gz file has a known size too: progress runs through its compressed bytes."""
    import gzip
    import random

    from siem_consensus.sources import EventStream

    rng = random.Random(7)
    # 12 MB that gzip shrinks 13x: several 4 MiB reads, each a step of progress
    pads = [rng.randbytes(100).hex() + "a" * 1800 for _ in range(6000)]
    if block_parser:  # ait-ads is read in blocks of raw lines
        rows = [f"{1642213990 + i},ET SCAN {pad},10.0.0.1,h,s,-,-" for i, pad in enumerate(pads)]
        fmt = "ait-ads"
    else:
        rows = [
            json.dumps({"@timestamp": 1768746600 + i, "source.ip": "10.0.0.1", "message": pad})
            for i, pad in enumerate(pads)
        ]
        fmt = "ecs"
    path = tmp_path / "in.gz"
    path.write_bytes(gzip.compress("\n".join(rows).encode(), compresslevel=1))
    calls: list[tuple[int, int, int]] = []
    stream = EventStream(
        [path], input_format=fmt, chunk_lines=1000, progress=lambda *a: calls.append(a)
    )
    list(stream)
    size = path.stat().st_size
    assert {total for _, _, total in calls} == {size}
    done = [d for _, d, _ in calls]
    assert done == sorted(done) and done[-1] == size
    # the share shown follows the lines read (ahead by at most the read-ahead), where the
    # decompressed bytes would say 100% after the first read
    assert all(d / size - n / len(rows) < 0.3 for n, d, _ in calls), calls


def _drawn(progress: Progress) -> str:
    from rich.console import Console

    out = io.StringIO()
    Console(file=out, width=100, no_color=True).print(progress.bar.get_renderable())
    return out.getvalue()


def test_unknown_size_shows_lines_without_eta() -> None:
    progress = Progress(io.StringIO())
    progress(1200, 5000, 0)  # stdin: no size
    drawn = _drawn(progress)
    assert "read 1,200 lines" in drawn and "ETA" not in drawn and "%" not in drawn
    progress(1300, 50, 100)  # then a file of known size
    assert re.search(r"read 1,300 lines .* 50% ETA", _drawn(progress))
    progress.close()
