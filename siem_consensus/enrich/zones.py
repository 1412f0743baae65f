"""Network zones and asset criticality: CIDR -> zone, criticality, owner.

The default inventory knows only address classes (RFC 1918 / loopback / link-local are
``internal``, everything else ``external``). Pass your own :class:`AssetInventory` to name
zones and mark critical servers.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

from pydantic import BaseModel, Field

from ..models import Incident

__all__ = ["Asset", "AssetInventory", "enrich_incident"]

_CRITICALITY = ("low", "medium", "high", "critical")


class Asset(BaseModel):
    """One inventory entry: a network (CIDR or single address) and what it is."""

    network: str = Field(description="CIDR such as 10.1.50.0/24, or one address.")
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
        parsed = [(ipaddress.ip_network(a.network, strict=False), a) for a in assets]
        self._assets = sorted(parsed, key=lambda pair: pair[0].prefixlen, reverse=True)
        self.lookup = lru_cache(maxsize=65536)(self._lookup)

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
