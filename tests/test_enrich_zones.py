"""Asset inventories: defaults unchanged, files (CSV/JSON/TOML) with CIDR or host-name keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from siem_consensus.enrich.zones import Asset, AssetInventory
from siem_consensus.errors import ConfigError


def test_default_inventory_is_unchanged() -> None:
    inventory = AssetInventory()
    assert inventory.zone("10.1.50.25") == "internal"
    assert inventory.zone("8.8.8.8") == "external"
    assert inventory.lookup("127.0.0.1").criticality == "low"  # type: ignore[union-attr]
    assert inventory.lookup_host("web01") is None
    with pytest.raises(ValueError, match="'10.1.50.0/33' does not appear to be an IPv4 or IPv6"):
        AssetInventory([Asset(network="10.1.50.0/33", zone="x")])


@pytest.mark.parametrize("suffix", [".csv", ".json", ".toml"])
def test_inventory_files_with_cidrs_and_host_names(tmp_path: Path, suffix: str) -> None:
    entries = [
        {"cidr": "10.1.50.0/24", "zone": "dmz", "criticality": "high", "owner": "web team"},
        {"network": "10.1.50.25", "zone": "dmz", "criticality": "critical"},
        {"hostname": "Intranet_Server", "zone": "servers", "criticality": "critical"},
        {"host": "mail.corp.example", "zone": "servers"},
    ]
    path = tmp_path / f"assets{suffix}"
    if suffix == ".csv":
        rows = ["cidr,network,hostname,host,zone,criticality,owner"]
        for e in entries:
            rows.append(",".join(str(e.get(c, "")) for c in rows[0].split(",")))
        path.write_text("\n".join(rows) + "\n")
    elif suffix == ".json":
        path.write_text(json.dumps({"assets": entries}))
    else:
        path.write_text(
            "".join(
                "[[asset]]\n" + "".join(f'{k} = "{v}"\n' for k, v in e.items()) for e in entries
            )
        )
    inventory = AssetInventory.from_file(path)
    assert inventory.lookup("10.1.50.25").criticality == "critical"  # type: ignore[union-attr]
    web = inventory.lookup("10.1.50.7")
    assert web is not None and (web.zone, web.criticality, web.owner) == ("dmz", "high", "web team")
    assert inventory.zone("10.1.60.1") == "external"  # the file replaces the defaults
    assert inventory.lookup_host("intranet_server").criticality == "critical"  # type: ignore[union-attr]
    mail = inventory.resolve("MAIL.corp.example.")
    assert mail is not None and mail.criticality == "medium"
    assert inventory.resolve("10.1.50.9") == web


def test_bad_inventory_entries(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([{"network": "10.0.0.0/8", "zone": "x", "criticality": "extreme"}]))
    with pytest.raises(ConfigError, match="entry 1 .*criticality"):
        AssetInventory.from_file(path)
    path.write_text(json.dumps([{"zone": "x"}]))
    with pytest.raises(ConfigError, match="entry 1 has none of"):
        AssetInventory.from_file(path)
    path.write_text(json.dumps([{"network": "10.0.0.0/40", "zone": "x"}]))
    with pytest.raises(ConfigError, match="entry 1"):
        AssetInventory.from_file(path)
    with pytest.raises(ConfigError, match="cannot read"):
        AssetInventory.from_file(tmp_path / "nope.toml")
