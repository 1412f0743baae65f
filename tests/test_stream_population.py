"""The baseline analyst's population in a stream job (docs/scale.md, "Batch and stream").

``--decide-at end-of-input`` gives the batch decisions exactly (tested with the default
analysts in test_stream.py). ``--decide-at session`` decides each incident when its session
closes, against the population of the sessions closed so far: the decisions may differ from
the batch's, and this file tests the bound: the incidents are the batch's, the population is a
part of the batch's, and the decision is what the batch graph decides given that population.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("quixstreams")
pytest.importorskip("noida_db")

from stream_helpers import (  # noqa: E402
    _no_worker_outlives_its_test,
    bootstrap,
    connectors,
    create_topic,
    dataset,
    expected,
    finish,
    lines,
    produce,
    read_topic,
    start_worker,
)

from siem_consensus import analyze_firewall  # noqa: E402
from siem_consensus.stream import (  # noqa: E402
    DecideSettings,
    StreamTopics,
    decide_incidents,
    get_family,
    send_end_of_input,
)
from siem_consensus.stream._detect import detect_and_measure  # noqa: E402
from siem_consensus.stream._population import attach, merge  # noqa: E402

# fixtures from stream_helpers
__all__ = ["_no_worker_outlives_its_test", "bootstrap", "connectors", "expected", "lines"]


def _without_population(stats: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in stats.items() if k != "population"}


def test_session_shares_sum_to_the_batch_population() -> None:
    """The sum of every source's session share is the population a batch run attaches."""
    from siem_consensus.stream._codec import RowParser

    lines = dataset(600, seed=3)
    parser = RowParser("asa")
    rows = [parser.parse(line.encode(), "t:0", n).row for n, line in enumerate(lines)]
    by_source: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row is not None and row.get("source_ip"):
            by_source.setdefault(row["source_ip"], []).append(row)
    family = get_family("firewall")
    shares = [detect_and_measure(family, r, population=True)[1] for r in by_source.values()]
    total = merge([s for s in shares if s is not None])
    batch = analyze_firewall(lines, input_format="asa")
    assert batch.incidents
    for incident in batch.incidents:
        raw = incident.model_dump(mode="json")
        assert attach(raw, total)["stats"]["population"] == raw["stats"]["population"]


@pytest.mark.slow  # a worker process: an acceptance run
@pytest.mark.xfail(
    strict=False,
    reason="open: Quix Streams 3.28.1 sometimes hands a worker a record of its own changelog "
    "topic as data (KeyError 'changelog__...', exit 70): once in ~4 runs here, and in "
    "test_stream.py's three-worker run on a machine at load 40-50 (2026-12-07), both times "
    "the record at offset 0 of a changelog partition. Upstream cause not found.",
)
def test_decided_at_session_close_differs_from_batch_only_by_the_population(
    bootstrap: str, connectors: Path, tmp_path: Path, lines: list[str]
) -> None:
    batch = analyze_firewall(lines, input_format="asa")
    by_id = {i.id: i.model_dump(mode="json") for i in batch.incidents}
    outcome = {d.incident_id: d.outcome.value for d in batch.decisions}
    whole = next(iter(by_id.values()))["stats"]["population"]["keys"]
    topic = f"asa-{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, topic)
    produce(bootstrap, topic, [line.encode() for line in lines])
    send_end_of_input(bootstrap, topic)
    group = f"g-{uuid.uuid4().hex[:6]}"
    worker = start_worker(connectors, topic, group, tmp_path, decide_at="session")
    counters = finish(worker)
    assert counters["decisions"] == len(by_id)
    records = read_topic(bootstrap, StreamTopics(topic, "firewall").decisions)
    assert {v["decision"]["incident_id"] for _k, v, *_ in records} == set(by_id)
    family, keys = get_family("firewall"), []
    for _key, value, *_ in records:
        incident, decision = value["incident"], value["decision"]
        reference = by_id[incident["id"]]
        assert _without_population(incident["stats"]) == _without_population(reference["stats"])
        seen = incident["stats"]["population"]["keys"]
        keys.append(seen)
        assert 0 < seen <= whole  # the sessions closed so far: a part of the whole input
        again = decide_incidents(family, [incident], DecideSettings()).decisions[0]
        assert again.outcome.value == decision["outcome"]  # the graph, given that population
        with_whole = {**incident, "stats": reference["stats"]}
        at_end = decide_incidents(family, [with_whole], DecideSettings()).decisions[0]
        assert at_end.outcome.value == outcome[incident["id"]]
        if seen == whole:
            assert decision["outcome"] == outcome[incident["id"]]
    print(json.dumps({"population_keys_at_decision": sorted(keys), "whole": whole}))
