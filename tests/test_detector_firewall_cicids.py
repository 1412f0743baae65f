"""FirewallDetector on real flows: the CIC-IDS2017 samples in ../shared/data (Engelen et al.).

Each sample file holds one class; the detector sees them all (out of time order, which the
default row budget absorbs). Every flow the incidents claim is checked against its file's label.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pytest

from siem_consensus.detectors.firewall import FirewallDetector
from siem_consensus.sources import EventStream

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "cicids2017"
ATTACKS = ("Portscan", "Infiltration_-_Portscan", "FTP-Patator", "SSH-Patator")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SHARED.is_dir(), reason="CIC-IDS2017 sample not available"),
]


def test_scans_and_brute_force_are_found_with_their_flows(tmp_path: Path) -> None:
    paths = []
    for packed in sorted(SHARED.glob("*.csv.gz")):
        path = tmp_path / packed.name.removesuffix(".gz")
        path.write_bytes(gzip.decompress(packed.read_bytes()))
        paths.append(path)
    detector = FirewallDetector()
    stream = EventStream(paths, input_format="cicflowmeter")
    batches = []
    for _, batch in stream:
        detector.update(batch)
        batches.append(batch)
    incidents = detector.finish()
    assert detector.counters["late"] == 0
    kinds = {(i.kind, i.entities.source_ips[0], i.stats["ports"][0]) for i in incidents}
    assert {("brute_force", "172.16.0.1", 21), ("brute_force", "172.16.0.1", 22)} <= kinds
    scanners = {i.entities.source_ips[0] for i in incidents if i.kind == "port_scan"}
    assert scanners == {"172.16.0.1", "192.168.10.8"}
    members = pl.concat([detector.assign(b, incidents) for b in batches])
    label = pl.col("event_id").str.extract(r"^(.+)_[0-9]+\.csv:")
    found = dict(members.select(label.alias("label"))["label"].value_counts().iter_rows())
    sizes = dict(p.stem.rsplit("_", 1) for p in paths)
    for attack in ATTACKS:
        assert found[attack] >= 0.99 * int(sizes[attack]), attack
    assert found.get("BENIGN", 0) <= 0.01 * int(sizes["BENIGN"])
