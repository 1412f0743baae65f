"""Threat-intelligence lists (IP addresses, CIDR blocks, domains) read from local files.

No network: feeds are files you download with your own tooling (abuse.ch, Spamhaus DROP, an
internal blocklist...). Two layouts are read:

* **plain text**: one indicator per line; ``#`` and ``;`` start comments (whole-line or after
  the indicator, as in Spamhaus DROP: ``1.10.16.0/20 ; SBL256894``); blank lines are ignored;
* **CSV** (``.csv``): a header row with an ``indicator`` column (or ``ip``, ``cidr``,
  ``network``, ``domain``, ``value``), and optionally ``source`` naming the list per row.

Each indicator is classified as an IP address, a CIDR block or a domain name (anything else in
a file is reported with its line). Every entry carries the name of its list (``source``): the
file stem unless you pass one, or the CSV ``source`` column.

Lookups: :meth:`ThreatIntel.lookup_ip` matches exact addresses and any containing CIDR block;
:meth:`ThreatIntel.lookup_domain` matches the domain and its subdomains (an entry
``evil.example`` matches ``cdn.evil.example``, not ``notevil.example``).
"""

from __future__ import annotations

import csv
import ipaddress
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Final

from ..errors import ConfigError

__all__ = ["IntelHit", "ThreatIntel"]

_DOMAIN: Final = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)
_INDICATOR_COLUMNS: Final = ("indicator", "ip", "cidr", "network", "domain", "value")

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class IntelHit:
    """One match: the indicator as listed (address, block or domain) and the list's name."""

    indicator: str
    source: str


@dataclass
class ThreatIntel:
    """In-memory threat-intel lists with address, block and domain lookups.

    Build one with :meth:`from_files` or :meth:`add`; lookups are cached.
    """

    _ips: dict[str, list[str]] = field(default_factory=dict)
    _networks: list[tuple[_Network, str]] = field(default_factory=list)
    _domains: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._cached_ip = lru_cache(maxsize=65_536)(self._lookup_ip)

    def __len__(self) -> int:
        return len(self._ips) + len(self._networks) + len(self._domains)

    @classmethod
    def from_files(cls, *paths: str | os.PathLike[str]) -> ThreatIntel:
        """Read every list file (plain text or ``.csv``); the list name is the file stem.

        Raises:
            ConfigError: unreadable file, missing indicator column, or an entry that is not an
                address, block or domain (with its line).
        """
        intel = cls()
        for path in paths:
            intel.load(path)
        return intel

    def load(self, path: str | os.PathLike[str], source: str | None = None) -> None:
        """Add the entries of one file, named ``source`` (default: the file stem)."""
        file = Path(path)
        name = source or file.name.split(".")[0]
        try:
            with file.open(encoding="utf-8", newline="") as fh:
                rows = list(_csv_rows(fh, file) if file.suffix.lower() == ".csv" else _text(fh))
        except OSError as exc:
            raise ConfigError(f"cannot read threat-intel list {file}: {exc}") from None
        for number, indicator, row_source in rows:
            try:
                self.add(indicator, row_source or name)
            except ValueError as exc:
                raise ConfigError(f"{file}, line {number}: {exc}") from None

    def add(self, indicator: str, source: str) -> None:
        """Add one indicator (address, CIDR block or domain) from list ``source``.

        Raises:
            ValueError: the indicator is none of these.
        """
        value = indicator.strip().lower().rstrip(".")
        if "/" in value:
            network = ipaddress.ip_network(value, strict=False)
            if network.num_addresses == 1:
                self._ips.setdefault(str(network.network_address), []).append(source)
            else:
                self._networks.append((network, source))
        elif _is_ip(value):
            self._ips.setdefault(str(ipaddress.ip_address(value)), []).append(source)
        elif _DOMAIN.match(value):
            self._domains.setdefault(value, []).append(source)
        else:
            raise ValueError(f"{indicator!r} is not an IP address, CIDR block or domain name")
        self._cached_ip.cache_clear()

    def lookup_ip(self, address: str | None) -> tuple[IntelHit, ...]:
        """Lists naming this address, exactly or through a block (empty if none or not an IP)."""
        return self._cached_ip(address) if address else ()

    def _lookup_ip(self, address: str) -> tuple[IntelHit, ...]:
        if not _is_ip(address):
            return ()
        ip = ipaddress.ip_address(address)
        hits = [IntelHit(str(ip), s) for s in self._ips.get(str(ip), ())]
        hits += [
            IntelHit(str(net), s)
            for net, s in self._networks
            if net.version == ip.version and ip in net
        ]
        return tuple(hits)

    def lookup_domain(self, name: str | None) -> tuple[IntelHit, ...]:
        """Lists naming this domain or a parent (``a.evil.example`` hits ``evil.example``)."""
        if not name:
            return ()
        labels = name.strip().lower().rstrip(".").split(".")
        hits: list[IntelHit] = []
        for start in range(len(labels) - 1):
            suffix = ".".join(labels[start:])
            hits += [IntelHit(suffix, s) for s in self._domains.get(suffix, ())]
        return tuple(hits)

    def lookup(self, value: str | None) -> tuple[IntelHit, ...]:
        """:meth:`lookup_ip` for addresses, :meth:`lookup_domain` for anything else."""
        if not value:
            return ()
        return self.lookup_ip(value) if _is_ip(value) else self.lookup_domain(value)


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _text(lines: Iterable[str]) -> Iterator[tuple[int, str, str | None]]:
    for number, line in enumerate(lines, start=1):
        value = re.split(r"[#;]", line, maxsplit=1)[0].strip()
        if value:
            yield number, value.split()[0], None


def _csv_rows(lines: Iterable[str], file: Path) -> Iterator[tuple[int, str, str | None]]:
    reader = csv.DictReader(lines)
    columns = {c.strip().lower(): c for c in reader.fieldnames or ()}
    key = next((columns[c] for c in _INDICATOR_COLUMNS if c in columns), None)
    if key is None:
        raise ConfigError(
            f"{file}: no indicator column; name one of: {', '.join(_INDICATOR_COLUMNS)}"
        )
    source = columns.get("source")
    for number, row in enumerate(reader, start=2):
        value = (row.get(key) or "").strip()
        named = (row.get(source) or "").strip() if source else ""
        if value and not value.startswith("#"):
            yield number, value, named or None
