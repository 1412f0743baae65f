"""Seeded OpenSSH ``auth.log`` generators: the SSH story of example 4, and bulk lines for the
benchmark.

Scenario 4 is one day (:data:`DEFAULT_DAY`) on ``bastion01``, an SSH jump host reachable from
the internet:

* 19 staff (``alice``, ``bob``, ...) log in from the office (``10.20.0.0/16``) with keys, and
  now and then mistype a password once or twice before getting in;
* *internet background*: about 60 external addresses try ``root``, ``admin`` and the other
  names every scanner tries, a few times each; two bots hammer ``root`` for hours; one
  scanner walks a list of names that do not exist here;
* the attack: :data:`ATTACKER` sprays two passwords over the site's own accounts, then guesses
  ``svc-backup``'s password until it gets in, and opens a session.

Output is deterministic for a seed: randomness comes from ``random.Random(seed)`` and the clock
is :data:`DEFAULT_DAY`, never the wall clock. BSD syslog carries no year: parse with
``OpenSshParser(year=2026)`` when the dates matter (the detector works on time differences).
"""

from __future__ import annotations

import ipaddress
import os
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

__all__ = [
    "ATTACKER",
    "COMPROMISED",
    "DEFAULT_DAY",
    "HOST",
    "bulk_auth_lines",
    "scenario_4",
    "write_scenario_4",
]

DEFAULT_DAY = datetime(2026, 3, 14, tzinfo=UTC)
"""Midnight (UTC) starting the generated day."""

HOST = "bastion01"
ATTACKER = "198.51.100.23"
COMPROMISED = "svc-backup"
_STAFF = (
    *("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"),
    *("mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter"),
)
_SITE_ACCOUNTS = (*_STAFF[:4], "deploy-web", "svc-backup", "jenkins", "monitoring")
_COMMON = ("root", "admin", "test", "oracle", "ubuntu", "pi", "postgres", "user", "support")
_INVALID = tuple(
    f"{name}{suffix}"
    for name in ("web", "mail", "shop", "dev", "info", "sales")
    for suffix in ("", "1", "adm", "01", "-user")
)


class _Log:
    """Collects (time, line) pairs of one sshd; pids grow per connection."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.pid = 20_000
        self.items: list[tuple[datetime, int, str]] = []

    def _add(self, ts: datetime, pid: int, message: str) -> None:
        stamp = f"{ts:%b} {ts.day:2d} {ts:%H:%M:%S}"
        self.items.append((ts, len(self.items), f"{stamp} {HOST} sshd[{pid}]: {message}"))

    def failure(self, ts: datetime, user: str, ip: str, *, invalid: bool) -> None:
        self.pid += 1
        port = self.rng.randint(30_000, 65_000)
        if invalid:
            self._add(ts, self.pid, f"Invalid user {user} from {ip} port {port}")
        self._add(
            ts,
            self.pid,
            "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh "
            f"ruser= rhost={ip}" + ("" if invalid else f"  user={user}"),
        )
        who = f"invalid user {user}" if invalid else user
        later = ts + timedelta(seconds=2)
        self._add(later, self.pid, f"Failed password for {who} from {ip} port {port} ssh2")
        self._add(later, self.pid, f"Connection closed by {ip} port {port} [preauth]")

    def success(self, ts: datetime, user: str, ip: str, method: str) -> None:
        self.pid += 1
        port = self.rng.randint(30_000, 65_000)
        self._add(ts, self.pid, f"Accepted {method} for {user} from {ip} port {port} ssh2")
        self._add(
            ts, self.pid, f"pam_unix(sshd:session): session opened for user {user} by (uid=0)"
        )

    def lines(self) -> list[str]:
        return [line for _, _, line in sorted(self.items)]


def _public_ip(rng: random.Random) -> str:
    while True:
        address = ipaddress.IPv4Address(rng.randint(0x01000000, 0xDFFFFFFF))
        if address.is_global and str(address) != ATTACKER:
            return str(address)


def _at(day: datetime, rng: random.Random, start_h: float = 0.0, end_h: float = 24.0) -> datetime:
    return day + timedelta(seconds=rng.uniform(start_h * 3600, end_h * 3600 - 60))


def _staff(log: _Log, day: datetime, rng: random.Random) -> None:
    for user in _STAFF:
        office = f"10.20.{rng.randint(1, 40)}.{rng.randint(2, 250)}"
        for _ in range(rng.randint(3, 8)):
            ts = _at(day, rng, 7, 19)
            if rng.random() < 0.25:  # a mistyped password, once or twice
                for n in range(rng.randint(1, 2)):
                    log.failure(ts + timedelta(seconds=5 * n), user, office, invalid=False)
                log.success(ts + timedelta(seconds=15), user, office, "password")
            else:
                log.success(ts, user, office, "publickey")


def _background(log: _Log, day: datetime, rng: random.Random) -> None:
    for _ in range(60):
        ip, user = _public_ip(rng), rng.choice(_COMMON)
        for _ in range(rng.randint(1, 6)):
            log.failure(_at(day, rng), user, ip, invalid=user not in ("root", "postgres"))
    for _ in range(2):  # bots hammering root for hours
        ip, start = _public_ip(rng), _at(day, rng, 0, 18)
        for n in range(rng.randint(150, 300)):
            log.failure(start + timedelta(seconds=40 * n), "root", ip, invalid=False)
    ip, start = _public_ip(rng), _at(day, rng, 0, 20)
    for n, name in enumerate(rng.sample(_INVALID, 25)):
        log.failure(start + timedelta(seconds=9 * n), name, ip, invalid=True)


def _attack(log: _Log, day: datetime, rng: random.Random) -> None:
    start = day + timedelta(hours=14, minutes=5)
    for round_ in range(2):  # two passwords sprayed over the site's accounts
        for n, user in enumerate(_SITE_ACCOUNTS):
            ts = start + timedelta(minutes=8 * round_, seconds=30 * n + rng.randint(0, 9))
            log.failure(ts, user, ATTACKER, invalid=False)
    guess = start + timedelta(minutes=25)
    for n in range(rng.randint(30, 45)):
        log.failure(guess + timedelta(seconds=20 * n), COMPROMISED, ATTACKER, invalid=False)
    log.success(guess + timedelta(minutes=16), COMPROMISED, ATTACKER, "password")


def scenario_4(seed: int = 7, day: datetime = DEFAULT_DAY) -> list[str]:
    """The day on ``bastion01`` described in the module docstring, as sshd syslog lines."""
    rng = random.Random(seed)
    log = _Log(rng)
    _staff(log, day, rng)
    _background(log, day, rng)
    _attack(log, day, rng)
    return log.lines()


def write_scenario_4(path: str | os.PathLike[str], seed: int = 7) -> int:
    """Write :func:`scenario_4` to ``path``; returns the number of lines."""
    lines = scenario_4(seed)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return len(lines)


def bulk_auth_lines(count: int, seed: int = 1) -> Iterator[str]:
    """``count`` sshd lines over a week on 20 internet-exposed hosts, in time order, for
    throughput tests: 5% staff key logins from the office, 20% preauth disconnects, 10%
    invalid-user notices and 65% failed passwords on common or non-existent names; 40% of the
    guessing comes from 50 busy bots, the rest from 20,000 scanners."""
    rng = random.Random(seed)
    bots = [_public_ip(rng) for _ in range(50)]
    scanners = [_public_ip(rng) for _ in range(20_000)]
    office = [f"10.20.{rng.randint(1, 40)}.{rng.randint(2, 250)}" for _ in range(200)]
    step = 7 * 86_400 / max(count, 1)
    for n in range(count):
        ts = DEFAULT_DAY + timedelta(seconds=n * step)
        stamp = f"{ts:%b} {ts.day:2d} {ts:%H:%M:%S}"
        host, port = f"srv{rng.randrange(20):02d}", rng.randint(30_000, 65_000)
        ip = rng.choice(bots) if rng.random() < 0.4 else rng.choice(scanners)
        roll = rng.random()
        if roll < 0.05:
            user = rng.choice(_STAFF)
            message = f"Accepted publickey for {user} from {rng.choice(office)} port {port} ssh2"
        elif roll < 0.25:
            message = f"Connection closed by {ip} port {port} [preauth]"
        elif roll < 0.35:
            message = f"Invalid user {rng.choice(_INVALID)} from {ip} port {port}"
        else:
            user = rng.choice(_COMMON) if rng.random() < 0.7 else rng.choice(_INVALID)
            who = user if user in _COMMON else f"invalid user {user}"
            message = f"Failed password for {who} from {ip} port {port} ssh2"
        yield f"{stamp} {host} sshd[{10_000 + n % 50_000}]: {message}"
