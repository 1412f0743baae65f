"""Network zones and asset criticality: CIDR -> zone, criticality, owner.

The default inventory knows only address classes (RFC 1918 / loopback / link-local are
``internal``, everything else ``external``). Pass your own :class:`AssetInventory` to name
zones and mark critical servers, or load one with :meth:`AssetInventory.from_file`.

An entry's ``network`` may also be a host name (``intranet-server``, ``web01.corp.example``):
it is matched, case-insensitively, by :meth:`AssetInventory.lookup_host` and
:meth:`AssetInventory.resolve`, for alerts that name hosts rather than addresses (Wazuh agents,
IDS sensors).
"""

from __future__ import annotations

import csv
import ipaddress
import json
import os
import re
import tomllib
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from ..errors import ConfigError
from ..models import Incident

__all__ = ["Asset", "AssetInventory", "enrich_incident"]

_CRITICALITY = ("low", "medium", "high", "critical")
_HOSTNAME = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252})$")
_KEY_COLUMNS = ("network", "cidr", "hostname", "host", "address", "ip")


class Asset(BaseModel):
    """One inventory entry: a network (CIDR or single address) and what it is."""

    network: str = Field(
        description="CIDR such as 10.1.50.0/24, one address, or a host name (see lookup_host)."
    )
    zone: str = Field(description="Zone name such as dmz, servers, workstations.")
    criticality: str = Field("medium", description="low, medium, high or critical.")
    owner: str | None = Field(None, description="Team or person responsible.")


_DEFAULT = (
    Asset(network="10.0.0.0/8", zone="internal", criticality="medium"),
    Asset(network="172.16.0.0/12", zone="internal", criticality="medium"),
    Asset(network="192.168.0.0/16", zone="internal", criticality="medium"),
    Asset(network="127.0.0.0/8", zone="internal", criticality="low"),
    Asset(network="fc00::/7", zone="internal", criticality="medium"),
)


class AssetInventory:
    """Longest-prefix lookup of assets; addresses matching nothing are ``external``."""

    def __init__(self, assets: Iterable[Asset] = _DEFAULT) -> None:
        parsed = []
        self._hosts: dict[str, Asset] = {}
        for asset in assets:
            if _is_hostname(asset.network):
                self._hosts.setdefault(asset.network.lower().rstrip("."), asset)
            else:
                parsed.append((ipaddress.ip_network(asset.network, strict=False), asset))
        self._assets = sorted(parsed, key=lambda pair: pair[0].prefixlen, reverse=True)
        self.lookup = lru_cache(maxsize=65536)(self._lookup)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> AssetInventory:
        """Load an inventory from CSV, JSON or TOML.

        Each entry has a key (``network``/``cidr`` for a CIDR or address, ``hostname``/``host``
        for a host name; ``address``/``ip`` also work), ``zone``, and optionally
        ``criticality`` (low, medium, high, critical; default medium) and ``owner``. CSV: a
        header row with those columns. JSON: a list of objects, or ``{"assets": [...]}``.
        TOML: ``[[asset]]`` tables. The file replaces the default RFC 1918 entries.

        Raises:
            ConfigError: unreadable file, or an invalid entry (with its number).
        """
        file = Path(path)
        try:
            items = _read_entries(file)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read asset inventory {file}: {exc}") from None
        return cls(_asset(file, n, item) for n, item in enumerate(items, start=1))

    def lookup_host(self, name: str) -> Asset | None:
        """The entry of a host name (case-insensitive, trailing dot ignored), or None."""
        return self._hosts.get(name.lower().rstrip(".")) if name else None

    def resolve(self, entity: str) -> Asset | None:
        """The entry of an address (longest prefix) or, for anything else, of a host name."""
        return self.lookup(entity) or self.lookup_host(entity)

    def _lookup(self, address: str) -> Asset | None:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        for network, asset in self._assets:
            if ip.version == network.version and ip in network:
                return asset
        return None

    def zone(self, address: str) -> str:
        """Zone name of an address (``external`` when unknown)."""
        asset = self.lookup(address)
        return asset.zone if asset else "external"

    def is_internal(self, address: str) -> bool:
        """True when the address is in the inventory."""
        return self.lookup(address) is not None


def _is_hostname(value: str) -> bool:
    if "/" in value or ":" in value or not _HOSTNAME.match(value):
        return False
    return not re.fullmatch(r"[0-9.]+", value)


def _read_entries(file: Path) -> list[Any]:
    text = file.read_text(encoding="utf-8")
    suffix = file.suffix.lower()
    if suffix == ".csv":
        return list(csv.DictReader(text.splitlines()))
    data: Any = tomllib.loads(text) if suffix == ".toml" else json.loads(text)
    if isinstance(data, dict):
        data = data.get("asset", data.get("assets"))
    if not isinstance(data, list):
        raise ValueError("expected a list of entries ([[asset]] in TOML, a JSON list)")
    return data


def _asset(file: Path, number: int, item: object) -> Asset:
    if not isinstance(item, dict):
        raise ConfigError(f"{file}: entry {number} is not a table/object")
    entry = {k.strip().lower(): v for k, v in item.items() if v not in (None, "")}
    key = next((entry.pop(c) for c in _KEY_COLUMNS if c in entry), None)
    for column in _KEY_COLUMNS:
        entry.pop(column, None)
    if key is None:
        raise ConfigError(f"{file}: entry {number} has none of: {', '.join(_KEY_COLUMNS)}")
    level = str(entry.get("criticality", "medium")).lower()
    if level not in _CRITICALITY:
        raise ConfigError(
            f"{file}: entry {number} ({key}): criticality {level!r} is not one of {_CRITICALITY}"
        )
    try:
        asset = Asset(network=str(key).strip(), **{**entry, "criticality": level})
        if not _is_hostname(asset.network):
            ipaddress.ip_network(asset.network, strict=False)
    except (ValidationError, ValueError, TypeError) as exc:
        raise ConfigError(f"{file}: entry {number} ({key}): {exc}") from None
    return asset


def enrich_incident(incident: Incident, inventory: AssetInventory) -> Incident:
    """Attach zones and the highest criticality of the incident's destinations."""
    sources = _zones(incident.entities.source_ips, inventory)
    targets = _zones(incident.entities.destination_ips, inventory)
    levels = [
        asset.criticality
        for ip in incident.entities.destination_ips
        if (asset := inventory.lookup(ip)) is not None and asset.criticality in _CRITICALITY
    ]
    enrichment = {
        **incident.enrichment,
        "source_zones": sources,
        "destination_zones": targets,
        "max_destination_criticality": max(levels, key=_CRITICALITY.index) if levels else None,
    }
    return incident.model_copy(update={"enrichment": enrichment})


def _zones(addresses: Sequence[str], inventory: AssetInventory) -> dict[str, str]:
    return {ip: inventory.zone(ip) for ip in addresses[:50]}
