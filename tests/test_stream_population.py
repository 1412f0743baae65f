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
from siem_consensus.stream._population import PopulationTable, attach, merge  # noqa: E402

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


def _share(keys: int) -> bytes:
    columns = {"events": float(keys), "ports": 1.0, "hosts": 1.0}
    share = {"keys": keys, "sums": columns, "squares": columns, "port_popularity": {"22": keys}}
    return json.dumps({"share": share}).encode()


def _produce_keyed(bootstrap: str, topic: str, records: dict[str, bytes]) -> None:
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap})
    for key, value in records.items():
        producer.produce(topic, value, key=key.encode())
    assert producer.flush(30) == 0


def test_catch_up_reads_every_share_committed_before_the_call(bootstrap: str) -> None:
    """``--decide-at session`` decides an incident once the table has caught up: the shares
    written before (its own session's among them) are in the population, although the
    reader, paused at the end of the topic, would not read again for a minute. Without the
    catch-up, a worker decided its first incidents against 0 keys."""
    topic = f"pop-{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, topic, partitions=1)
    _produce_keyed(bootstrap, topic, {"a": _share(3)})
    table = PopulationTable(bootstrap, topic, {}, horizon_s=86_400, refresh_s=60).start()
    try:
        assert table.catch_up(timeout=30)
        assert table.population().keys == 3
        _produce_keyed(bootstrap, topic, {"b": _share(4), "c": _share(5)})  # reader paused
        assert table.catch_up(timeout=30)
        assert table.population().keys == 12
        assert table.catch_up(timeout=30)  # nothing new: at once
    finally:
        table.stop()


@pytest.mark.slow  # a worker process: an acceptance run
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
