"""End to end: the seeded CERT-format generator, the CERT parsers, the insider detector."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from siem_consensus.detectors.base import detect_stream
from siem_consensus.detectors.insider import InsiderDetector
from siem_consensus.generators.insider import GeneratedDataset, generate_insider_dataset
from siem_consensus.models import Incident, Severity
from siem_consensus.parsers.cert import cert_inputs, read_ldap
from siem_consensus.sources import EventStream


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> GeneratedDataset:
    return generate_insider_dataset(tmp_path_factory.mktemp("cert"), seed=1)


@pytest.fixture(scope="module")
def detected(generated: GeneratedDataset) -> tuple[InsiderDetector, list[Incident]]:
    inputs = cert_inputs(generated.directory)
    assert inputs.ldap == generated.ldap
    detector = InsiderDetector(directory=read_ldap(inputs.ldap))
    return detector, detect_stream(iter(EventStream(inputs.event_files)), detector)


def test_scenario_3_from_cert_files(detected: tuple[InsiderDetector, list[Incident]]) -> None:
    _, incidents = detected
    bob = [i for i in incidents if i.entities.users == ("bob.engineer",)]
    assert len(bob) == 1
    stats = bob[0].stats
    assert bob[0].severity.rank >= Severity.HIGH.rank
    assert 100 <= stats["volume_ratio"] < 1000
    assert stats["downloads"] >= 150 and stats["volume_bytes"] >= 3_800_000_000
    assert stats["new_resource_examples"][0] == "/database/customers"
    assert "off_hours" in stats["features"] and stats["usual_hours"] == [9, 17]
    assert stats["department"] is not None and stats["left_company"] is False
    assert "from /database/customers" in stats["narrative"]


def test_no_benign_user_gets_a_high_incident(
    generated: GeneratedDataset, detected: tuple[InsiderDetector, list[Incident]]
) -> None:
    _, incidents = detected
    insiders = {t.user for t in generated.truth}
    benign_high = [
        i
        for i in incidents
        if i.entities.users[0] not in insiders and i.severity.rank >= Severity.HIGH.rank
    ]
    assert benign_high == []


def test_evidence_ids_resolve_to_lines(
    generated: GeneratedDataset, detected: tuple[InsiderDetector, list[Incident]]
) -> None:
    _, incidents = detected
    names = {path.name for path in generated.files.values()}
    for incident in incidents:
        for event_id in incident.evidence_event_ids:
            name, _, line = event_id.rpartition(":")
            assert name in names and int(line) >= 2  # line 1 is the header


def test_assign_covers_the_night(
    generated: GeneratedDataset, detected: tuple[InsiderDetector, list[Incident]]
) -> None:
    detector, incidents = detected
    bob = [i for i in incidents if i.entities.users == ("bob.engineer",)]
    members = pl.concat(
        [detector.assign(batch, bob) for _, batch in EventStream([generated.files["file"]])]
    )
    assert members.height >= 150
    assert set(members["incident_id"]) == {bob[0].id}


def test_population_over_detection_user_days(
    detected: tuple[InsiderDetector, list[Incident]],
) -> None:
    detector, incidents = detected
    assert detector.population["keys"] == detector.user_days.height > 0
    assert all(i.stats["population"] == detector.population for i in incidents)


def test_generated_files_exist(generated: GeneratedDataset) -> None:
    assert all(Path(p).exists() for p in generated.files.values())
