"""STIX 2.1 export: the bundle parses back strictly and is deterministic."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

import siem_consensus
from siem_consensus.errors import MissingDependencyError
from siem_consensus.examples import example_2
from siem_consensus.export import to_stix_bundle
from siem_consensus.generators import firewall
from siem_consensus.generators.insider import generate_insider_dataset
from siem_consensus.report import Report

stix2 = pytest.importorskip("stix2")


@pytest.fixture(
    scope="module",
    params=["firewall", "ids", "insider"],
)
def report(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Report:
    if request.param == "firewall":
        return siem_consensus.analyze_firewall(firewall.scenario_1(seed=7), input_format="asa")
    if request.param == "ids":
        return example_2(quiet=True)
    cert = tmp_path_factory.mktemp("cert")
    generate_insider_dataset(cert, users=20, days=30, scenarios=("night_mass_download",))
    return siem_consensus.detect_insider_threats(cert)


def _objects(bundle: str) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = json.loads(bundle)["objects"]
    return objects


def test_bundle_parses_strictly_and_is_deterministic(report: Report) -> None:
    bundle = to_stix_bundle(report)
    parsed = stix2.parse(bundle, allow_custom=False)
    assert parsed.type == "bundle"
    assert to_stix_bundle(report) == bundle


def test_bundle_contents(report: Report) -> None:
    objects = _objects(to_stix_bundle(report))
    by_type: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        by_type.setdefault(obj["type"], []).append(obj)
    assert len(by_type["incident"]) == len(report.decisions)
    refs = [r for ap in by_type["attack-pattern"] for r in ap["external_references"]]
    assert all(r["source_name"] == "mitre-attack" and r["external_id"] for r in refs)
    indicators = by_type.get("indicator", [])
    kinds = {r["relationship_type"] for r in by_type["relationship"]}
    if report.detector == "insider":  # users and hosts, no addresses to indicate
        assert not indicators and "sighting" not in by_type
        assert kinds == {"related-to"}
    else:
        assert indicators, "alerts with external sources must yield indicators"
        assert len(by_type["sighting"]) >= len(indicators)
        assert kinds == {"indicates", "related-to"}
    for ind in indicators:
        stix2.Indicator(**ind)  # re-validates the pattern
        assert ind["pattern"].startswith("[ipv4-addr:value = '")
    ids = {o["id"] for o in objects}
    for rel in by_type["relationship"]:
        assert rel["source_ref"] in ids and rel["target_ref"] in ids


def test_missing_stix2_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "stix2", None)  # makes `import stix2` raise ImportError
    with pytest.raises(MissingDependencyError, match=r"siem-consensus\[export\]"):
        to_stix_bundle(Report())
