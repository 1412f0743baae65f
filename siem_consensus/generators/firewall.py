"""Seeded Cisco ASA syslog generators: Scenario 1 of the book and bulk traffic for benchmarks.

Output is deterministic for a seed: randomness comes from ``random.Random(seed)`` and the
default clock is :data:`DEFAULT_NOW` (2026-01-18 16:30 UTC), never the wall clock. ASA syslog
headers carry no year, so pass the year to the ASA parser (``year=2026``) when the dates
matter; the firewall detector works on time differences and does not depend on the year.
"""

from __future__ import annotations

import heapq
import ipaddress
import os
import random
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

__all__ = [
    "DEFAULT_NOW",
    "SCANNER",
    "SCAN_PORTS",
    "SCAN_TARGET",
    "asa_deny",
    "bulk_asa_lines",
    "scenario_1",
    "write_bulk",
    "write_scenario_1",
]

DEFAULT_NOW = datetime(2026, 1, 18, 16, 30, tzinfo=UTC)
"""Reference "now" of the generated scenarios (reproducibility first)."""

SCANNER = "45.95.168.200"
SCAN_TARGET = "10.1.50.10"
SCAN_PORTS = (21, 22, 23, 25, 80, 443, 445, 1433, 3306, 3389, 5432, 8080, 8443)
_NOISE_PORTS = (22, 23, 445, 3389)
_DNS_CLIENT = "10.1.20.50"


def _header(ts: datetime) -> str:
    return f"{ts:%b} {ts.day:2d} {ts:%H:%M:%S} firewall"


def asa_deny(
    ts: datetime, proto: str, src: tuple[str, str, int], dst: tuple[str, str, int], acl: str
) -> str:
    """One ``%ASA-4-106023`` deny line; ``src``/``dst`` are (interface, address, port)."""
    return (
        f"{_header(ts)} %ASA-4-106023: Deny {proto} src {src[0]}:{src[1]}/{src[2]} "
        f'dst {dst[0]}:{dst[1]}/{dst[2]} by access-group "{acl}" [0x0, 0x0]'
    )


def _public_ip(rng: random.Random) -> str:
    while True:
        address = ipaddress.IPv4Address(rng.randint(0x01000000, 0xDFFFFFFF))
        if address.is_global and str(address) != SCANNER:
            return str(address)


def _sport(rng: random.Random) -> int:
    return rng.randint(1024, 65535)


def scenario_1(seed: int = 7, *, now: datetime | None = None) -> list[str]:
    """Scenario 1: one port scan among internet noise and a DNS misconfiguration.

    * 45.95.168.200 probes 10.1.50.10 on the 13 :data:`SCAN_PORTS`, 15 denied attempts per
      port, one every 2 minutes per port: 195 denies over 30 minutes, starting 2 hours before
      ``now``;
    * about 1,000 denies of background noise: random public sources, 1-2 hits each on
      22/23/445/3389 across 10.1.0.0/16, over the 6 hours before ``now``;
    * 10.1.20.50 denied 150-200 times on udp/53 to 8.8.8.8 by ``no_external_dns``.

    Args:
        seed: Random seed; the same seed gives the same lines.
        now: End of the generated period; :data:`DEFAULT_NOW` when None.

    Returns:
        ASA syslog lines sorted by time.
    """
    rng = random.Random(seed)
    end = now or DEFAULT_NOW
    start = end - timedelta(hours=6)
    timed = [
        *_scan(rng, end - timedelta(hours=2)),
        *_noise(rng, start, end),
        *_dns(rng, start, end),
    ]
    timed.sort(key=lambda item: item[0])
    return [line for _, line in timed]


def _scan(rng: random.Random, start: datetime) -> Iterator[tuple[datetime, str]]:
    for attempt in range(15):
        for offset, port in enumerate(SCAN_PORTS):
            ts = start + timedelta(seconds=attempt * 120 + offset * 2 + rng.uniform(0, 1.5))
            src = ("outside", SCANNER, _sport(rng))
            yield ts, asa_deny(ts, "tcp", src, ("inside", SCAN_TARGET, port), "outside_in")


def _noise(rng: random.Random, start: datetime, end: datetime) -> Iterator[tuple[datetime, str]]:
    span = (end - start).total_seconds()
    produced = 0
    while produced < 1000:
        source = _public_ip(rng)
        ts = start + timedelta(seconds=rng.uniform(0, span - 600))
        for _ in range(rng.choice((1, 1, 2))):
            target = f"10.1.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            port = rng.choice(_NOISE_PORTS)
            src = ("outside", source, _sport(rng))
            yield ts, asa_deny(ts, "tcp", src, ("inside", target, port), "outside_in")
            ts += timedelta(seconds=rng.uniform(1, 300))
            produced += 1


def _dns(rng: random.Random, start: datetime, end: datetime) -> Iterator[tuple[datetime, str]]:
    span = (end - start).total_seconds()
    for _ in range(rng.randint(150, 200)):
        ts = start + timedelta(seconds=rng.uniform(0, span))
        src = ("inside", _DNS_CLIENT, _sport(rng))
        yield ts, asa_deny(ts, "udp", src, ("outside", "8.8.8.8", 53), "no_external_dns")


def _write(path: str | os.PathLike[str], lines: Iterable[str]) -> int:
    count = 0
    with open(path, "w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(line + "\n")
            count += 1
    return count


def write_scenario_1(path: str | os.PathLike[str], seed: int = 7) -> int:
    """Write :func:`scenario_1` to ``path``; returns the number of lines."""
    return _write(path, scenario_1(seed))


_Item = tuple[datetime, int, str]


def _built(ts: datetime, conn: int, proto: str, direction: str, outside: str, inside: str) -> str:
    code = "302013" if proto == "TCP" else "302015"
    return (
        f"{_header(ts)} %ASA-6-{code}: Built {direction} {proto} connection {conn} for "
        f"outside:{outside} ({outside}) to inside:{inside} ({inside})"
    )


def _teardown(ts: datetime, conn: int, proto: str, hosts: tuple[str, str], took: float) -> str:
    code = "302014" if proto == "TCP" else "302016"
    tail = " TCP FINs" if proto == "TCP" else ""
    return (
        f"{_header(ts)} %ASA-6-{code}: Teardown {proto} connection {conn} for outside:{hosts[0]} "
        f"to inside:{hosts[1]} duration 0:00:{int(took):02d} bytes {int(took * 997) + 60}{tail}"
    )


class _BulkTraffic:
    """Ordinary traffic from bounded pools plus occasional attack episodes."""

    def __init__(self, rng: random.Random, start: datetime) -> None:
        self.rng, self.now, self.seq, self.conn = rng, start, 0, 100_000
        self.clients = [f"10.1.{i // 250}.{i % 250 + 1}" for i in range(2000)]
        self.servers = [f"10.1.50.{i}" for i in range(10, 30)]
        self.remote = [_public_ip(rng) for _ in range(300)]
        self.visitors = [_public_ip(rng) for _ in range(3000)]

    def _item(self, ts: datetime, line: str) -> _Item:
        self.seq += 1
        return (ts, self.seq, line)

    def step(self) -> tuple[datetime, list[_Item]]:
        """Advance the clock by one event; return it and any lines it schedules."""
        rng = self.rng
        self.now += timedelta(seconds=rng.expovariate(30.0))
        if rng.random() < 1e-5:
            return self.now, self._episode()
        pick = rng.random()
        if pick < 0.55:
            return self.now, self._connection(outbound=True, udp=pick < 0.15)
        if pick < 0.75:
            return self.now, self._connection(outbound=False, udp=False)
        src = ("outside", _public_ip(rng), _sport(rng))
        dst = (
            "inside",
            f"10.1.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            rng.choice(_NOISE_PORTS),
        )
        return self.now, [self._item(self.now, asa_deny(self.now, "tcp", src, dst, "outside_in"))]

    def _connection(self, *, outbound: bool, udp: bool) -> list[_Item]:
        rng, self.conn = self.rng, self.conn + 1
        proto = "UDP" if udp else "TCP"
        if outbound:
            port = 53 if udp else rng.choice((443, 443, 443, 80))
            remote = "8.8.8.8" if udp else rng.choice(self.remote)
            outside, inside = f"{remote}/{port}", f"{rng.choice(self.clients)}/{_sport(rng)}"
        else:
            outside = f"{rng.choice(self.visitors)}/{_sport(rng)}"
            inside = f"{rng.choice(self.servers)}/{rng.choice((443, 80))}"
        took = min(rng.expovariate(1 / 20), 59.0)
        end = self.now + timedelta(seconds=took)
        direction = "outbound" if outbound else "inbound"
        closing = _teardown(end, self.conn, proto, (outside, inside), took)
        return [
            self._item(self.now, _built(self.now, self.conn, proto, direction, outside, inside)),
            self._item(end, closing),
        ]

    def _episode(self) -> list[_Item]:
        rng, attacker = self.rng, _public_ip(self.rng)
        kind = rng.choice(("scan", "brute", "sweep"))
        count = rng.randint(60, 300)
        items, ts = [], self.now
        for i in range(count):
            ts += timedelta(seconds=rng.uniform(0.5, 3.0))
            host = f"10.1.60.{i % 250 + 1}" if kind == "sweep" else self.servers[0]
            port = {"scan": 1 + i * 7 % 10000, "brute": 22, "sweep": 445}[kind]
            src, dst = ("outside", attacker, _sport(rng)), ("inside", host, port)
            items.append(self._item(ts, asa_deny(ts, "tcp", src, dst, "outside_in")))
        return items


def bulk_asa_lines(n: int, seed: int = 1, *, start: datetime | None = None) -> Iterator[str]:
    """``n`` time-ordered ASA lines of ordinary traffic with a few attacks, in constant memory.

    About 50 events per second of log time (1M lines span about 5.5 hours): built/teardown
    pairs of outbound TCP/UDP and inbound web connections from bounded address pools,
    internet background denies, and about every 100k lines an attack episode (port scan,
    SSH brute force or sweep of 445). Pending lines wait in a heap bounded by the longest
    connection, so memory does not grow with ``n``.

    Args:
        n: Number of lines.
        seed: Random seed.
        start: Timestamp of the first line; 00:30 on the day of :data:`DEFAULT_NOW` when None.
    """
    traffic = _BulkTraffic(random.Random(seed), start or DEFAULT_NOW.replace(hour=0, minute=30))
    pending: list[_Item] = []
    emitted = 0
    while emitted < n:
        now, items = traffic.step()
        for item in items:
            heapq.heappush(pending, item)
        while pending and pending[0][0] <= now and emitted < n:
            yield heapq.heappop(pending)[2]
            emitted += 1


def write_bulk(path: str | os.PathLike[str], n: int, seed: int = 1) -> int:
    """Write :func:`bulk_asa_lines` to ``path``; returns the number of lines."""
    return _write(path, bulk_asa_lines(n, seed))
