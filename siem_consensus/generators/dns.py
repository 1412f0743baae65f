"""Seeded Zeek ``dns.log`` (TSV) lines: benign resolver traffic, and a DGA at work.

Benign traffic (:func:`benign_dns`) is what a resolver sees from ordinary clients: long
CDN-like and hash-like host names that resolve (``d3a9f0c1b2e4a7.cloudfront.example``,
``r4---sn-5uaeznly.video.example``), NTP pool and update-server lookups, reverse lookups
(``.in-addr.arpa``) answered NXDOMAIN, an antivirus asking about file hashes over DNS
(``<md5>.avqs.vendor.example``, NXDOMAIN for an unknown file), a few mistyped names answered
NXDOMAIN, blocked tracker
domains answered NXDOMAIN by a filtering resolver, and a DNS blocklist queried for every
mail sender (many NXDOMAIN names under one zone). None of it is a DGA.

:func:`dga_dns` is one client looking up ``count`` freshly generated domains under a few TLDs,
most answered NXDOMAIN: the behaviour of malware searching for its command-and-control server.
Every address and name is from documentation ranges or ``.example``-style zones except the
TLDs a DGA uses.
"""

from __future__ import annotations

import random
import string
from collections.abc import Sequence
from datetime import datetime, timedelta

__all__ = ["HEADER", "benign_dns", "dga_dns", "dga_names", "dns_line", "dns_log"]

HEADER = (
    "#separator \\x09",
    "#set_separator\t,",
    "#empty_field\t(empty)",
    "#unset_field\t-",
    "#path\tdns",
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\ttrans_id\trtt\tquery"
    "\tqclass\tqclass_name\tqtype\tqtype_name\trcode\trcode_name\tAA\tTC\tRD\tRA\tZ\tanswers"
    "\tTTLs\trejected",
)
"""The directives of a Zeek dns.log."""

_RCODES = {"NOERROR": 0, "SERVFAIL": 2, "NXDOMAIN": 3}
_RESOLVER = "10.1.0.53"
_WORDS = (
    "analytics", "metrics", "pixel", "adservice", "tagmanager", "insights", "beacon",
    "statistics", "telemetry", "marketing", "promo", "sponsor", "partner", "campaign",
    "audience", "display", "banner", "social", "share", "widget", "counter", "report",
    "measure", "collect", "events", "tracking", "optimize", "engage", "reach", "native",
)  # fmt: skip
_SITES = ("portal", "intranet", "mail", "docs", "shop", "news", "weather", "travel", "bank")
_TYPOS = ("gooogle", "exmaple", "wikipeda", "outlok", "amazn", "faceboook", "githb", "yotube")


def dns_line(
    ts: datetime,
    client: str,
    query: str,
    rcode: str | None = "NOERROR",
    answers: Sequence[str] = (),
    *,
    resolver: str = _RESOLVER,
    qtype: str = "A",
    uid: str = "C0",
) -> str:
    """One dns.log row (``rcode`` None: no reply was seen)."""
    code = "-" if rcode is None else str(_RCODES.get(rcode, 0))
    fields = (
        f"{ts.timestamp():.6f}", uid, client, "53000", resolver, "53", "udp", "1", "0.010",
        query, "1", "C_INTERNET", "28" if qtype == "AAAA" else "1", qtype, code, rcode or "-",
        "F", "F", "T", "T" if rcode else "F", "0", ",".join(answers) or "-",
        ",".join("300.0" for _ in answers) or "-", "F",
    )  # fmt: skip
    return "\t".join(fields)


def dns_log(rows: Sequence[tuple[datetime, str]]) -> list[str]:
    """A whole dns.log: the header, then ``rows`` (timestamp, line) in time order."""
    return [*HEADER, *(line for _, line in sorted(rows))]


def dga_names(rng: random.Random, count: int, tlds: Sequence[str] = ("com", "net")) -> list[str]:
    """``count`` distinct generated domains: 8-15 letters (one in four with digits)."""
    names: set[str] = set()
    while len(names) < count:
        alphabet = string.ascii_lowercase + (string.digits if rng.random() < 0.25 else "")
        label = "".join(rng.choice(alphabet) for _ in range(rng.randint(8, 15)))
        names.add(f"{label}.{rng.choice(list(tlds))}")
    return sorted(names)


def dga_dns(
    rng: random.Random,
    start: datetime,
    client: str,
    count: int = 60,
    *,
    resolved: int = 2,
    spacing_s: float = 2.0,
    tlds: Sequence[str] = ("com", "net"),
) -> list[tuple[datetime, str]]:
    """A client looking up ``count`` generated domains, all but ``resolved`` NXDOMAIN."""
    rows = []
    for n, name in enumerate(dga_names(rng, count, tlds)):
        ts = start + timedelta(seconds=n * spacing_s + rng.random())
        if n < resolved:
            rows.append((ts, dns_line(ts, client, name, "NOERROR", ["198.51.100.66"])))
        else:
            rows.append((ts, dns_line(ts, client, name, "NXDOMAIN")))
    return rows


def benign_dns(
    rng: random.Random, start: datetime, hours: int = 2, clients: int = 20
) -> list[tuple[datetime, str]]:
    """Ordinary resolver traffic of ``clients`` hosts (10.1.30.x) over ``hours`` hours."""
    rows: list[tuple[datetime, str]] = []
    for c in range(clients):
        client = f"10.1.30.{c + 10}"
        for n in range(hours * 60):  # one burst of lookups a minute
            ts = start + timedelta(seconds=60 * n + rng.uniform(0, 50))
            for query, rcode in _burst(rng, c):
                answers = ["203.0.113.80"] if rcode == "NOERROR" else []
                rows.append((ts, dns_line(ts, client, query, rcode, answers)))
                ts += timedelta(milliseconds=rng.randint(1, 200))
    rows += _blocklist(rng, start, hours)
    rows += _filtered_trackers(rng, start)
    return rows


def _hexlabel(rng: random.Random, size: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(size))


def _burst(rng: random.Random, client: int) -> list[tuple[str, str]]:
    picks = [
        (f"d{_hexlabel(rng, 13)}.cloudfront.example", "NOERROR"),
        (f"e{rng.randint(1000, 99999)}.a.akamaiedge.example", "NOERROR"),
        (f"r{rng.randint(1, 9)}---sn-{_hexlabel(rng, 8)}.video.example", "NOERROR"),
        (f"{_hexlabel(rng, 32)}.telemetry.vendor.example", "NOERROR"),
        (f"{rng.randint(0, 3)}.pool.ntp.example", "NOERROR"),
        (f"update.{rng.choice(('os', 'av', 'browser'))}vendor.example", "NOERROR"),
        (f"{rng.choice(_SITES)}.corp.example", "NOERROR"),
        (f"{rng.randint(1, 254)}.{rng.randint(0, 255)}.51.198.in-addr.arpa", "NXDOMAIN"),
        (f"{_hexlabel(rng, 32)}.avqs.vendor.example", "NXDOMAIN"),  # unknown file hash
    ]
    out = rng.sample(picks, rng.randint(2, 5))
    if rng.random() < 0.02:  # a mistyped name now and then
        out.append((f"www.{rng.choice(_TYPOS)}.com", "NXDOMAIN"))
    if rng.random() < 0.05:  # a search-domain suffix nobody serves
        out.append((f"{rng.choice(_SITES)}.corp.example.corp.example", "NXDOMAIN"))
    return out


def _blocklist(rng: random.Random, start: datetime, hours: int) -> list[tuple[datetime, str]]:
    """A mail server checking every sender against a DNS blocklist: NXDOMAIN means clean."""
    rows = []
    for n in range(hours * 200):
        ts = start + timedelta(seconds=n * 18 + rng.random())
        octets = ".".join(str(rng.randint(1, 254)) for _ in range(4))
        rows.append((ts, dns_line(ts, "10.1.40.25", f"{octets}.zen.dnsbl.example", "NXDOMAIN")))
    return rows


def _filtered_trackers(rng: random.Random, start: datetime) -> list[tuple[datetime, str]]:
    """A browser page load whose trackers a filtering resolver answers NXDOMAIN (wordy)."""
    rows = []
    names = {f"{rng.choice(_WORDS)}{rng.choice(_WORDS)}.{rng.choice(('com', 'net'))}"
             for _ in range(80)}  # fmt: skip
    for n, name in enumerate(sorted(names)[:40]):
        ts = start + timedelta(seconds=300 + n * 0.5)
        rows.append((ts, dns_line(ts, "10.1.30.77", name, "NXDOMAIN")))
    return rows
