"""The HTML report as a browser shows it: rendered by headless Chromium (Debian's ``chromium``,
installed by .ci/run), checked in the DOM the browser built and in the screenshot it took."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from siem_consensus import example_2
from siem_consensus.export import to_html
from siem_consensus.report import Report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run)")
ALERT_RED = (0xD3, 0x2F, 0x2F)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, Path]:
    report = example_2(quiet=True)
    path = tmp_path_factory.mktemp("html") / "ids.html"
    path.write_text(to_html(report), encoding="utf-8")
    return report, path


def _chromium(*args: str) -> subprocess.CompletedProcess[bytes]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args],
        capture_output=True,
        timeout=120,
        check=True,
    )


def test_the_browser_builds_every_part(page: tuple[Report, Path]) -> None:
    report, path = page
    dom = _chromium("--dump-dom", path.as_uri()).stdout.decode()
    assert dom.count('aria-label="incident timeline"') == 1
    assert dom.count("<rect") >= len(report.incidents)  # one bar per incident, and the hosts
    assert 'aria-label="attack graph"' in dom  # the campaign has its graph
    campaign = next(i for i in report.incidents if i.kind == "campaign")
    for host in campaign.stats["attackers"] + campaign.stats["victims"]:
        assert f">{host}</text>" in dom
    assert "time (UTC), from" in dom and 'class="tick"' in dom  # the axis and its labels
    assert "Recommended actions" in dom and "Each analyst, judging alone" in dom
    assert f"{report.input.lines:,}" in dom  # input accounting
    assert "<script" not in dom


def _pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and raw RGB(A) rows of a non-interlaced 8-bit PNG (what Chromium writes)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, data, width = 8, b"", 0
    height = channels = 0
    while pos < len(png):
        size, kind = struct.unpack(">I4s", png[pos : pos + 8])
        body = png[pos + 8 : pos + 8 + size]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6)
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            data += body
        pos += 12 + size
    raw, stride, rows, prev = zlib.decompress(data), width * channels, [], bytes(width * channels)
    for y in range(height):
        line = raw[y * (stride + 1) : (y + 1) * (stride + 1)]
        kind, cur = line[0], bytearray(line[1:])
        for i in range(stride):
            left = cur[i - channels] if i >= channels else 0
            up, corner = prev[i], prev[i - channels] if i >= channels else 0
            if kind == 1:
                cur[i] = (cur[i] + left) & 0xFF
            elif kind == 2:
                cur[i] = (cur[i] + up) & 0xFF
            elif kind == 3:
                cur[i] = (cur[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                cur[i] = (cur[i] + pred) & 0xFF
        rows.append(bytes(cur))
        prev = bytes(cur)
    return width, height, [bytes(r[i] for i in range(len(r)) if i % channels < 3) for r in rows]


def test_the_screenshot_shows_the_report(page: tuple[Report, Path], tmp_path: Path) -> None:
    _, path = page
    shot = tmp_path / "shot.png"
    _chromium("--window-size=1000,1400", f"--screenshot={shot}", path.as_uri())
    width, height, rows = _pixels(shot.read_bytes())
    assert (width, height) == (1000, 1400)
    red = bytes(ALERT_RED)
    red_rows = sum(red in row and row.find(red) % 3 == 0 for row in rows)
    assert red_rows >= 8, "the alert's timeline bar and badge are drawn in alert red"
    ink = sum(sum(1 for b in row[::3] if b < 128) for row in rows)
    assert ink > 20_000, "text and pictures, not a blank page"
