"""A source that never pauses is decided while still active: one worker, a real broker.

The scanner of ``test_stream_span.py`` probes one host every minute for 30 hours of log time on
a one-partition topic, with no end of input: its first segment (up to midnight) must be decided
once log time passes the cut by the session gap plus the lateness, while it keeps scanning.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("quixstreams")
pytest.importorskip("noida_db")

from stream_helpers import (  # noqa: E402
    STARTED,
    WORKER,
    _no_worker_outlives_its_test,
    bootstrap,
    connectors,
    create_topic,
    finish,
    produce,
    read_topic,
)
from test_stream_span import START, scanner_lines  # noqa: E402

from siem_consensus import analyze_firewall  # noqa: E402
from siem_consensus.stream import StreamTopics, send_end_of_input  # noqa: E402

# fixtures shared with test_stream
__all__ = ["_no_worker_outlives_its_test", "bootstrap", "connectors"]


def _worker(connectors: Path, topic: str, state: Path, extra: Sequence[str]) -> Any:
    args = ["stream", "firewall", "--connectors", str(connectors), "--from", "kafka", topic]
    args += ["--group", f"g-{uuid.uuid4().hex[:6]}", "--until-idle", "30", "--state-dir"]
    args += [str(state), "--input-format", "asa", "--analysts", "rules", "--lateness", "600"]
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER, *args, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    STARTED.append(proc)
    return proc


def _wait_for_decisions(bootstrap: str, topic: str, count: int, timeout: float) -> list[Any]:
    deadline = time.monotonic() + timeout
    while True:
        records = read_topic(bootstrap, topic)
        if len(records) >= count or time.monotonic() > deadline:
            return records
        time.sleep(2)


@pytest.mark.slow  # about 3 minutes here (one worker, 1,920 lines, load average 20)
def test_a_source_that_never_pauses_is_decided_while_still_active(
    bootstrap: str, connectors: Path, tmp_path: Path
) -> None:
    lines = scanner_lines(30)
    [batch] = analyze_firewall(lines, input_format="asa", analysts="rules").incidents
    topic = f"asa-{uuid.uuid4().hex[:8]}"
    topics = StreamTopics(topic, "firewall")
    create_topic(bootstrap, topic, partitions=1)
    worker = _worker(connectors, topic, tmp_path / "w", ["--max-session-span", "1d"])
    # The first segment ends at midnight; its session can close once log time passes midnight
    # by the gap (2 h) plus the lateness (10 min): the scanner's 30 hours get there.
    produce(bootstrap, topic, [line.encode() for line in lines])
    early = _wait_for_decisions(bootstrap, topics.decisions, 1, timeout=120)
    # Decided with no end of input and no pause: the part before the cut, with the batch's id.
    assert [value["decision"]["incident_id"] for _k, value, *_ in early] == [batch.id]
    assert worker.poll() is None  # still running: the scanner's session is still open
    # The scanner goes on; at the end of input its second segment is decided too, once.
    more = scanner_lines(2, START + timedelta(hours=30))
    produce(bootstrap, topic, [line.encode() for line in more])
    send_end_of_input(bootstrap, topic)
    counters = finish(worker)
    records = read_topic(bootstrap, topics.decisions)
    ids = [value["decision"]["incident_id"] for _k, value, *_ in records]
    assert len(ids) == len(set(ids)) == 2 and ids[0] == batch.id
    assert counters["events"] == len(lines) + len(more)
