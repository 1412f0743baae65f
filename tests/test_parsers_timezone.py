"""``--timezone`` / ``timezone=`` reaches every parser that reads zone-less time stamps.

Each parser reads the same wall-clock times with no zone and with ``Europe/Vienna``; the
instants must move by Vienna's offset at that moment, across both DST changes of the year
(the repeated hour in October is the earlier instant; the skipped hour in March is read with
the offset before the change). Time stamps that carry a zone or are epoch numbers never move.
Inputs are read from a file (the block / vectorised paths) and as a list of lines (the
per-line paths where a parser has both).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from cli_helpers import run_main
from parser_checks import run_in_december  # noqa: F401 (autouse: the time of the run)

from siem_consensus.sources import EventStream

VIENNA = ZoneInfo("Europe/Vienna")


def _last_sunday(year: int, month: int) -> int:
    day = datetime(year, month + 1, 1) - timedelta(days=1)
    return (day - timedelta(days=(day.weekday() - 6) % 7)).day


# Year-less formats (BSD syslog, Snort fast.log) take their year from the time of the run,
# pinned below to December 2026, so the DST days are computed for 2026: winter, the hour
# before and after the March change, the skipped hour, the repeated October hour, summer.
YEAR = 2026  # the year of parser_checks.RUN_TIME
_MARCH, _OCTOBER = _last_sunday(YEAR, 3), _last_sunday(YEAR, 10)
WALLS = [
    datetime(YEAR, 1, 18, 14, 30, 5),
    datetime(YEAR, 3, _MARCH, 1, 30, 5),
    datetime(YEAR, 3, _MARCH, 2, 30, 5),  # does not exist in Vienna
    datetime(YEAR, 3, _MARCH, 3, 30, 5),
    datetime(YEAR, 10, _OCTOBER, 2, 30, 5),  # happens twice in Vienna
    datetime(YEAR, 7, 10, 9, 15, 5),
]
OFFSET_HOURS = [1, 1, 1, 2, 2, 2]  # Vienna's offset for each wall time (the earlier instant)


def _utc(wall: datetime) -> datetime:
    return wall.replace(tzinfo=UTC)


def _bsd(wall: datetime) -> str:
    return f"{wall:%b} {wall.day:2d} {wall:%H:%M:%S}"


def _iso(wall: datetime) -> str:
    return f"{wall:%Y-%m-%dT%H:%M:%S}"


def _asa(stamp: str) -> str:
    return (
        f"{stamp} fw1 : %ASA-4-106023: Deny tcp src outside:203.0.113.5/4444 "
        'dst inside:10.0.0.5/22 by access-group "outside_in"'
    )


def _openssh(stamp: str) -> str:
    return f"{stamp} bastion01 sshd[9]: Failed password for root from 203.0.113.9 port 5 ssh2"


def _iptables(stamp: str) -> str:
    return (
        f"{stamp} web01 kernel: [1.5] IPTABLES-DROP: IN=eth0 OUT= SRC=45.95.168.200 "
        "DST=10.1.50.10 LEN=60 PROTO=TCP SPT=52341 DPT=22 SYN"
    )


def _pfsense(stamp: str) -> str:
    return (
        f"{stamp} pfsense filterlog[4242]: 5,,,1000000103,em0,match,block,in,4,0x0,,52,54321,0,"
        "DF,6,tcp,60,45.95.168.200,10.1.50.10,52341,22,0,S,1960648610,,64240,,mss"
    )


def _paloalto(wall: datetime) -> str:
    when = f"{wall:%Y/%m/%d %H:%M:%S}"
    return (
        f"{_bsd(wall)} pa-fw01 1,{when},012501002341,TRAFFIC,end,2561,{when},10.1.30.15,"
        "93.184.216.34,203.0.113.2,93.184.216.34,allow-web,corp\\alice,,ssl,vsys1,trust,untrust,"
        f"ethernet1/1,ethernet1/2,fwd,{when},72568134,1,52000,443,40123,443,0x400019,tcp,allow,"
        "7312,2228,5084,22"
    )


def _fastlog(stamp: str) -> str:
    return (
        f"{stamp}  [**] [1:2000355:5] ET CHAT IRC authorization message [**] "
        "[Classification: Misc activity] [Priority: 3] {TCP} 84.92.227.177:6668 -> 10.0.0.6:5"
    )


def _eve(stamp: str) -> str:
    record = {
        "timestamp": stamp,
        "event_type": "alert",
        "src_ip": "84.92.227.177",
        "src_port": 6668,
        "dest_ip": "10.0.0.6",
        "dest_port": 5,
        "proto": "TCP",
        "alert": {"signature_id": 2000355, "signature": "ET CHAT", "severity": 3},
    }
    return json.dumps(record)


def _wazuh(stamp: str) -> str:
    record = {
        "timestamp": stamp,
        "rule": {"level": 5, "id": "5716", "description": "sshd: authentication failed."},
        "agent": {"id": "003", "name": "web"},
        "data": {"srcip": "45.95.168.200"},
    }
    return json.dumps(record)


def _splunk(stamp: str) -> str:
    # _raw without a time of its own: the event's time is _time
    result = {"_raw": "no time here", "_time": stamp, "host": "fw01", "sourcetype": "custom"}
    return json.dumps({"preview": False, "result": result})


def _ecs(stamp: str) -> str:
    return json.dumps({"@timestamp": stamp, "source.ip": "10.0.0.1", "event.action": "deny"})


def _zeek_json(stamp: str) -> str:
    record = {"ts": stamp, "uid": "C1", "id.orig_h": "10.0.0.1", "id.orig_p": 5}
    return json.dumps({**record, "id.resp_h": "10.0.0.2", "id.resp_p": 22, "proto": "tcp"})


def _zeek_ssh_json(stamp: str) -> str:
    record = {"ts": stamp, "uid": "C1", "id.orig_h": "10.0.0.1", "id.orig_p": 5}
    record |= {"id.resp_h": "10.0.0.2", "id.resp_p": 22, "auth_success": False}
    return json.dumps({**record, "auth_attempts": 3})


def _zeek_dns_json(stamp: str) -> str:
    record = {"ts": stamp, "uid": "C1", "id.orig_h": "10.0.0.1", "id.orig_p": 5353}
    record |= {"id.resp_h": "10.0.0.2", "id.resp_p": 53, "proto": "udp", "query": "a.example"}
    return json.dumps({**record, "rcode": 0, "rcode_name": "NOERROR"})


_ZEEK_FIELDS = "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto"


def _zeek(stamps: list[str]) -> list[str]:
    rows = [f"{s}\tC{i}\t10.0.0.1\t5\t10.0.0.2\t22\ttcp" for i, s in enumerate(stamps)]
    return ["#separator \\x09", "#path\tconn", f"#fields\t{_ZEEK_FIELDS}", *rows]


_CIC = "Src IP,Src Port,Dst IP,Dst Port,Protocol,Timestamp,Flow Duration,Label"


def _cic(stamps: list[str]) -> list[str]:
    return [_CIC, *(f"10.0.0.1,5,10.0.0.2,22,6,{s},1000,BENIGN" for s in stamps)]


def _cic_slashed(wall: datetime) -> str:
    hour = wall.hour % 12 or 12
    half = "PM" if wall.hour >= 12 else "AM"
    return f"{wall.month}/{wall.day}/{wall.year} {hour}:{wall:%M:%S} {half}"


def _cert(header: str, row: Callable[[str], str]) -> Callable[[list[datetime]], list[str]]:
    def lines(walls: list[datetime]) -> list[str]:
        return [header, *(row(f"{w:%m/%d/%Y %H:%M:%S}") for w in walls)]

    return lines


def _each(line: Callable[[datetime], str]) -> Callable[[list[datetime]], list[str]]:
    return lambda walls: [line(w) for w in walls]


# parser -> lines for the wall times, written without a zone
ZONELESS: dict[str, Callable[[list[datetime]], list[str]]] = {
    "asa": _each(lambda w: _asa(f"{w:%b %d %Y %H:%M:%S}")),
    "asa-iso": _each(lambda w: _asa(_iso(w))),
    "openssh": _each(lambda w: _openssh(_bsd(w))),
    "iptables": _each(lambda w: _iptables(_bsd(w))),
    "pfsense": _each(lambda w: _pfsense(_bsd(w))),
    "paloalto": _each(_paloalto),
    "fastlog": _each(lambda w: _fastlog(f"{w:%m/%d/%Y-%H:%M:%S}.000001")),
    "fastlog-snort": _each(lambda w: _fastlog(f"{w:%m/%d-%H:%M:%S}.000001")),
    "suricata": _each(lambda w: _eve(_iso(w))),
    "wazuh": _each(lambda w: _wazuh(_iso(w))),
    "splunk": _each(lambda w: _splunk(_iso(w))),
    "ecs": _each(lambda w: _ecs(_iso(w))),
    "zeek-json": _each(lambda w: _zeek_json(_iso(w))),
    "zeek-ssh-json": _each(lambda w: _zeek_ssh_json(_iso(w))),
    "zeek-dns-json": _each(lambda w: _zeek_dns_json(_iso(w))),
    "zeek": lambda walls: _zeek([_iso(w) for w in walls]),
    "cicflowmeter": lambda walls: _cic([_cic_slashed(w) for w in walls]),
    "cicflowmeter-iso": lambda walls: _cic([f"{w:%Y-%m-%d %H:%M:%S}.5" for w in walls]),
    "cert-logon": _cert("id,date,user,pc,activity", lambda d: f"{{A1}},{d},U01,PC-1,Logon"),
    # a quoted field sends the row to the per-line path
    "cert-logon-quoted": _cert("id,date,user,pc,activity", lambda d: f'{{A}},{d},"U01",PC-1,Logon'),
    "cert": lambda walls: [f"logon,{{A}},{w:%m/%d/%Y %H:%M:%S},U01,PC-1,Logon" for w in walls],
    "cert-device": _cert("id,date,user,pc,activity", lambda d: f"{{A1}},{d},U01,PC-1,Connect"),
    "cert-http": _cert(
        "id,date,user,pc,url,content", lambda d: f"{{A1}},{d},U01,PC-1,http://a.b/,x"
    ),
    "cert-file": _cert(
        "id,date,user,pc,filename,content", lambda d: f"{{A1}},{d},U01,PC-1,R:\\a.doc,x"
    ),
    "cert-email": _cert(
        "id,date,user,pc,to,cc,bcc,from,size,attachments,content",
        lambda d: f"{{A1}},{d},U01,PC-1,b@x.com,,,a@x.com,10,0,hi",
    ),
}
FORMAT = {name: name.removesuffix("-iso") for name in ZONELESS}
FORMAT |= {"fastlog-snort": "fastlog", "cert-logon-quoted": "cert-logon"}
FRACTION = {"fastlog": 1, "fastlog-snort": 1, "cicflowmeter-iso": 500_000}


def _read(
    tmp_path: Path, fmt: str, lines: list[str], timezone: str | None, as_file: bool
) -> list[datetime]:
    source: Any = lines
    if as_file:
        source = tmp_path / f"input-{fmt}.log"
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    stream = EventStream([source], input_format=fmt, timezone=timezone)
    times = [t for _, batch in stream for t in batch.sort("line")["timestamp"].to_list()]
    assert stream.stats.dead_letters == 0, stream.dead_letters
    return times


@pytest.mark.parametrize("as_file", [True, False], ids=["file", "lines"])
@pytest.mark.parametrize("case", sorted(ZONELESS))
def test_zone_less_times_follow_the_timezone(tmp_path: Path, case: str, as_file: bool) -> None:
    lines = ZONELESS[case](WALLS)
    fmt = FORMAT[case]
    micro = FRACTION.get(case, 0)
    expected_utc = [_utc(w).replace(microsecond=micro) for w in WALLS]
    assert _read(tmp_path, fmt, lines, None, as_file) == expected_utc
    vienna = _read(tmp_path, fmt, lines, "Europe/Vienna", as_file)
    shifted = [t - timedelta(hours=h) for t, h in zip(expected_utc, OFFSET_HOURS, strict=True)]
    assert vienna == shifted
    # the repeated October hour is the earlier of its two instants
    assert vienna[4].astimezone(VIENNA).fold == 0


# parser -> the first wall time written with an explicit zone (or as an epoch number)
ZONED: dict[str, str] = {
    "asa": _asa("2026-01-18T14:30:05+01:00"),
    "openssh": _openssh("2026-01-18T14:30:05+01:00"),
    "suricata": _eve("2026-01-18T14:30:05+0100"),
    "wazuh": _wazuh("2026-01-18T14:30:05.000+0100"),
    "splunk": _splunk("2026-01-18T14:30:05+01:00"),
    "ecs": _ecs("2026-01-18T14:30:05+01:00"),
    "zeek-json": _zeek_json("2026-01-18T13:30:05Z"),
    "zeek-ssh-json": _zeek_ssh_json("1768743005"),
    "zeek-dns-json": _zeek_dns_json("2026-01-18T13:30:05Z"),
    "zeek": _zeek(["1768743005.0"])[-1],
    "cicflowmeter": _cic(["2026-01-18 14:30:05+01:00"])[-1],
    "ait-ads": "1768743005,ET SCAN,10.0.0.1,web,scan,-,-",
}


_HEAD = {"zeek": _zeek([]), "cicflowmeter": [_CIC]}


@pytest.mark.parametrize("fmt", sorted(ZONED))
def test_explicit_zones_and_epochs_do_not_move(tmp_path: Path, fmt: str) -> None:
    lines = [*_HEAD.get(fmt, []), ZONED[fmt]]
    for zone in (None, "Europe/Vienna", "America/New_York"):
        assert _read(tmp_path, fmt, lines, zone, True) == [_utc(datetime(2026, 1, 18, 13, 30, 5))]


def _as_fastlog(eve: str) -> str:
    """An EVE alert rewritten as the fast.log line a sensor would write (its wall time, no zone)."""
    record = json.loads(eve)
    wall = datetime.fromisoformat(record["timestamp"])
    alert = record["alert"]
    return (
        f"{wall:%m/%d/%Y-%H:%M:%S.%f}  [**] [1:{alert['signature_id']}:3] {alert['signature']} "
        f"[**] [Classification: {alert['category']}] [Priority: {alert['severity']}] "
        f"{{{record['proto']}}} {record['src_ip']}:{record['src_port']} -> "
        f"{record['dest_ip']}:{record['dest_port']}"
    )


def test_timezone_flag_reaches_fastlog_through_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from siem_consensus.generators.ids import scenario_2

    lines = [_as_fastlog(line) for line in scenario_2(seed=7) if '"alert"' in line]
    (tmp_path / "fast.log").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def first_seen(*extra: str) -> list[datetime]:
        args = ["ids", "fast.log", "--format", "json", *extra]
        done = run_main(args, tmp_path, monkeypatch, capsys)
        assert done.returncode == 0, done.stderr
        incidents = json.loads(done.stdout)["incidents"]
        assert incidents
        return sorted(datetime.fromisoformat(i["first_seen"]) for i in incidents)

    utc, vienna = first_seen(), first_seen("--timezone", "Europe/Vienna")
    offsets = {u - v for u, v in zip(utc, vienna, strict=True)}
    assert offsets == {timedelta(hours=1)} or offsets == {timedelta(hours=2)}


def test_unknown_timezone_is_a_config_error() -> None:
    from siem_consensus.errors import ConfigError

    with pytest.raises(ConfigError, match="IANA"):
        EventStream(["x"], timezone="Nowhere/Land")


def test_unknown_timezone_fails_before_the_run() -> None:
    from siem_consensus import analyze_firewall
    from siem_consensus.errors import ConfigError

    with pytest.raises(ConfigError, match="Europe/Vienna"):
        analyze_firewall([ZONELESS["asa"](WALLS)[0]], timezone="Mars/Olympus")


def test_timezone_reaches_the_api() -> None:
    from siem_consensus import analyze_auth
    from siem_consensus.generators.auth import scenario_4

    lines = scenario_4(seed=7)  # sshd syslog, BSD time stamps without a zone
    utc = analyze_auth(lines).incidents
    tokyo = analyze_auth(lines, timezone="Asia/Tokyo").incidents
    # the attack (the background is cut into UTC days, which a zone moves)
    [attack] = [i for i in utc if i.title.startswith("Login after")]
    [same] = [i for i in tokyo if i.title == attack.title]
    assert attack.first_seen - same.first_seen == timedelta(hours=9)


def test_timezone_reaches_connectors_that_parse_as_they_read() -> None:
    """Kafka messages are parsed by the connector while the stream reads it (its decoder)."""
    from collections.abc import Mapping
    from types import SimpleNamespace

    from siem_consensus.connectors.kafka._decode import Decoder
    from siem_consensus.models import Event
    from siem_consensus.testing import MemoryConnector

    class SyslogTopic(MemoryConnector):
        name = "test-syslog-topic"

        def iter_events(
            self, query: Mapping[str, Any] | str | None = None, **_: Any
        ) -> Iterator[Event]:
            lines = ZONELESS["asa"](WALLS)
            records = [
                SimpleNamespace(topic="fw", partition=0, offset=n, value=line.encode())
                for n, line in enumerate(lines)
            ]
            events, letters = Decoder("fw", None).convert(records)
            assert not letters
            yield from events

    def first(timezone: str | None) -> list[datetime]:
        stream = EventStream([SyslogTopic().search()], timezone=timezone)
        return [t for _, batch in stream for t in batch["timestamp"].to_list()]

    from siem_consensus.connectors import CONNECTORS

    try:
        utc, vienna = first(None), first("Europe/Vienna")
    finally:
        CONNECTORS.pop(SyslogTopic.name, None)  # registered by subclassing; not for others
    assert utc == [_utc(w) for w in WALLS]
    assert [u - v for u, v in zip(utc, vienna, strict=True)] == [
        timedelta(hours=h) for h in OFFSET_HOURS
    ]
