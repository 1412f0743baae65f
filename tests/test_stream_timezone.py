"""``stream --timezone``: zone-less time stamps are read in the given zone, as in batch."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("quixstreams")
pytest.importorskip("noida_db")

from stream_helpers import bootstrap, create_topic  # noqa: E402

from siem_consensus.cli import main  # noqa: E402
from siem_consensus.stream import StreamSettings, StreamWorker  # noqa: E402

# fixtures shared with test_stream
__all__ = ["bootstrap"]

LINE = (
    "Jan 18 12:00:00 fw01 %ASA-4-106023: Deny tcp src outside:198.51.100.7/40000 "
    'dst inside:10.1.50.10/22 by access-group "x" [0x0, 0x0]'
)


def _read_by_worker(bootstrap: str, timezone: str | None) -> int:
    """The log time (epoch microseconds) a worker's parser gives LINE while the worker runs."""
    topic = f"asa-{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, topic, partitions=1)
    worker = StreamWorker(
        StreamSettings("firewall", bootstrap, topic, input_format="asa", timezone=timezone)
    )
    seen: list[Any] = []

    def run_instead(_until_idle: float | None) -> None:  # the engine's place, parsing as it does
        seen.append(worker._parser.parse(LINE.encode(), f"{topic}:0", 0).row)

    worker._run_until_done = run_instead  # type: ignore[method-assign]
    worker.run()
    [row] = seen
    return int(row["timestamp"])


def test_a_worker_reads_zone_less_times_in_its_timezone(bootstrap: str) -> None:
    utc = _read_by_worker(bootstrap, None)
    vienna = _read_by_worker(bootstrap, "Europe/Vienna")
    assert utc - vienna == 3_600_000_000  # noon in Vienna in January is 11:00 UTC


def test_cli_and_defaults_check_the_timezone(tmp_path: Path, capsys: Any) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[connectors.k]\ntype = "kafka"\nbootstrap_servers = "127.0.0.1:9"\n')
    args = ["stream", "firewall", "--connectors", str(config), "--from", "k", "t"]
    assert main([*args, "--timezone", "Mars/Olympus_Mons"]) == 2
    assert "not a known time zone" in capsys.readouterr().err
    # [defaults] applies to stream too: a bad zone there is refused the same way.
    config.write_text(config.read_text() + '\n[defaults.stream]\ntimezone = "Mars/Olympus_Mons"\n')
    assert main(args) == 2
    assert "not a known time zone" in capsys.readouterr().err
