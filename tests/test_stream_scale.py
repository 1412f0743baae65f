"""The stream job at the issue's acceptance size: 1 and 3 worker processes decide as the batch.

Generated ASA lines (``stream_helpers.dataset``: bulk traffic with scans, brute forces and a
sweep) on an 8-partition topic, a back-fill (``--decide-at end-of-input``): the set of
(incident id, outcome) on the decisions topic is the batch command's, with no decision key
twice. The 1 M-line run is the acceptance test of issue 14 (``scale``: see docs/scale.md
for its measured cost on 2 shared cores); the 100 k-line run with 1 worker is the same test in
the slow suite (with 3 workers it is ``scale``: noida-db stalls some 3-member rebalances).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("quixstreams")
pytest.importorskip("noida_db")

from stream_helpers import (  # noqa: E402
    _no_worker_outlives_its_test,
    batch_outcomes,
    connectors,
    dataset,
    decided,
    duplicates,
    finish,
    read_topic,
    start_worker,
    write_job,
)

from siem_consensus.testing.noida import NoidaServer  # noqa: E402

__all__ = ["_no_worker_outlives_its_test", "connectors"]

_DATA: dict[int, tuple[list[str], set[tuple[str, str]]]] = {}
LARGE = ["--kafka-setting", "receive.message.max.bytes=1000000000"]
"""noida-db ignores ``fetch.max.bytes``: a fetch of a 1 M-line topic was answered with 171 MB,
over librdkafka's default limit of 100 MB on a response (the 1 M run failed on it)."""
IDLE_S = 30.0
"""`--until-idle`: workers start after the input is written, so they have work at once; a
probe that times out no longer counts as idle (docs/scale.md)."""


@pytest.fixture(scope="module")
def bootstrap() -> Iterator[str]:
    """A broker of its own: these runs hold a lot of data."""
    with NoidaServer(("kafka",)) as server:
        yield server.kafka_bootstrap


def _data(size: int) -> tuple[list[str], set[tuple[str, str]]]:
    """The lines and the batch command's (incident id, outcome) set, once per size."""
    if size not in _DATA:
        lines = dataset(size, seed=2)
        _DATA[size] = (lines, batch_outcomes(lines))
    return _DATA[size]


_SLOW = [pytest.mark.slow, pytest.mark.timeout(1200)]
_SCALE = [pytest.mark.scale, pytest.mark.timeout(4 * 3600)]


@pytest.mark.parametrize(
    ("size", "workers"),
    [
        # Slow pass: 120 s and 129 s at load 13-21, with the 30 s idle wait (docs/scale.md,
        # "Where the CPU goes").
        pytest.param(100_000, 1, marks=_SLOW),
        # Passed once in 99 s; in the next run noida-db's group stayed in
        # PREPARING_REBALANCING with 3 members and no assignment for minutes (and once a
        # worker failed in partition assignment): a broker limitation, kept out of CI.
        pytest.param(100_000, 3, marks=_SCALE),
        pytest.param(1_000_000, 1, marks=_SCALE),
        pytest.param(1_000_000, 3, marks=_SCALE),
    ],
)
def test_generated_lines_decide_as_the_batch_command(
    bootstrap: str, connectors: Path, tmp_path: Path, size: int, workers: int
) -> None:
    lines, wanted = _data(size)
    assert len(wanted) >= 5, "the data set must hold several incidents to compare"
    started = time.monotonic()
    topics = write_job(bootstrap, lines)
    produced = time.monotonic()
    group = f"g-{uuid.uuid4().hex[:6]}"
    procs = [
        start_worker(connectors, topics.source, group, tmp_path / f"w{i}", IDLE_S, extra=LARGE)
        for i in range(workers)
    ]
    counters = [finish(p, timeout=3 * 3600) for p in procs]
    print(
        f"{size:,} lines, {workers} worker(s): produced in {produced - started:.0f} s, "
        f"workers done in {time.monotonic() - produced:.0f} s; counters {counters}"
    )
    assert sum(c.get("events", 0) for c in counters) == len(lines)
    records = read_topic(bootstrap, topics.decisions)
    assert decided(records) == wanted
    assert duplicates(records) == {}
