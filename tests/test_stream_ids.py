"""IDS in a stream: keyed by attacker/victim pair, the job loses cross-pair links, not alerts.

The batch correlator links a victim's later outbound steps (towards its command-and-control
server) to the campaign that compromised it; a stream job keys IDS alerts by the unordered
pair, so each pair's alerts go through their own correlator (docs/scale.md). Measured on the
campaign of ``generators.ids.scenario_2``: batch finds one critical campaign over both pairs;
per-pair detection finds one campaign per pair, which together hold exactly the same alerts,
at a severity no higher than the linked campaign's.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from siem_consensus.generators import ids as generator
from siem_consensus.models import Severity
from siem_consensus.stream import detect_session, get_family
from siem_consensus.stream._codec import RowParser, session_frame

_ORDER = list(Severity)


def _rows() -> list[dict[str, Any]]:
    lines = generator.scenario_2()
    campaign = [line for line in lines if generator.ATTACKER in line or generator.C2_SERVER in line]
    parser = RowParser("suricata")
    parsed = [parser.parse(line.encode(), "ids:0", n).row for n, line in enumerate(campaign)]
    return [row for row in parsed if row is not None]


def _members(rows: list[dict[str, Any]]) -> tuple[list[Any], set[str]]:
    """Incidents of one correlator over ``rows`` and the ids of the events inside them."""
    frame = session_frame(rows)
    detector = get_family("ids").detector()
    detector.update(frame)
    incidents = detector.finish()
    assigned: pl.DataFrame = detector.assign(frame, incidents)
    return incidents, set(assigned["event_id"].to_list())


def test_per_pair_sessions_split_a_cross_pair_campaign_without_losing_an_alert() -> None:
    rows = _rows()
    family = get_family("ids")
    batch, in_batch = _members(rows)
    pairs: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        pairs.setdefault(str(family.entity(row)), []).append(row)
    assert len(pairs) == 2  # attacker-victim and victim-C2
    stream, in_stream = [], set()
    for pair_rows in pairs.values():
        found, members = _members(pair_rows)
        assert [i.model_dump(mode="json") for i in found] == detect_session(family, pair_rows)
        stream += found
        in_stream |= members
    assert [i.kind for i in batch] == ["campaign"] and batch[0].severity is Severity.CRITICAL
    assert sorted(i.kind for i in stream) == ["campaign", "campaign"]
    assert in_stream == in_batch and len(in_batch) == batch[0].event_count  # no alert lost
    top = max(_ORDER.index(i.severity) for i in stream)
    assert top < _ORDER.index(batch[0].severity)  # the link is what made it critical
    assert len({i.id for i in stream} & {i.id for i in batch}) == 1
