"""Year-less time stamps (BSD syslog, Snort fast.log): the latest year in which the date exists
and is at most a day after the reference time (the time of the run)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from siem_consensus.parsers import _year
from siem_consensus.parsers._syslog import MONTHS, bsd_expr, parse_bsd
from siem_consensus.parsers._year import TOLERANCE, SyslogYear
from siem_consensus.parsers._zone import naive_zone
from siem_consensus.parsers.asa import AsaParser
from siem_consensus.parsers.fastlog import FastLogParser
from siem_consensus.parsers.iptables import IptablesParser
from siem_consensus.parsers.openssh import OpenSshParser
from siem_consensus.parsers.pfsense import PfsenseParser
from siem_consensus.sources import EventStream

LOGHUB = Path(__file__).resolve().parents[2] / "shared" / "data" / "loghub-openssh"
TODAY = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _at(reference: datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    """The run happens at ``reference`` (parsers built afterwards take it as their reference)."""
    monkeypatch.setattr(_year, "_now", lambda: reference)


@pytest.mark.parametrize(
    ("reference", "stamp", "expected"),
    [
        (TODAY, "Dec 10 06:55:46", 2025),  # three days ahead: last year's (the loghub sample)
        (TODAY, "Dec  7 11:00:00", 2026),
        (TODAY, "Jan 18 14:23:45", 2026),
        (TODAY, "Dec  8 12:00:00", 2026),  # exactly the tolerance ahead: still this year
        (TODAY, "Dec  8 12:00:01", 2025),  # one second more: last year
        (TODAY, "Feb 29 10:00:00", 2024),  # no 29 February in 2026 or 2025
        (datetime(2028, 3, 1, tzinfo=UTC), "Feb 29 10:00:00", 2028),
        (datetime(2028, 2, 28, 10, tzinfo=UTC), "Feb 29 10:00:00", 2028),  # within a day
        (datetime(2028, 2, 28, 10, tzinfo=UTC), "Feb 29 10:00:01", 2024),
        (datetime(2101, 6, 1, tzinfo=UTC), "Feb 29 00:00:00", 2096),  # 2100 is no leap year
        # read in January: December is last year's, January this year's
        (datetime(2027, 1, 2, 8, tzinfo=UTC), "Dec 31 23:59:58", 2026),
        (datetime(2027, 1, 2, 8, tzinfo=UTC), "Jan  1 00:00:03", 2027),
        # a clock a few seconds ahead on New Year's Eve: the coming January
        (datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC), "Jan  1 00:00:05", 2027),
    ],
)
def test_year_of_a_year_less_stamp(reference: datetime, stamp: str, expected: int) -> None:
    rule = SyslogYear(reference=reference)
    assert parse_bsd(stamp, rule).year == expected
    frame = pl.DataFrame({"t": [stamp]}).select(bsd_expr(pl.col("t"), rule))
    assert frame.item().year == expected  # the vectorised path agrees


def test_a_given_year_is_used_as_it_is() -> None:
    assert parse_bsd("Dec 10 06:55:46", SyslogYear(2020)).year == 2020
    assert parse_bsd("Dec 10 06:55:46", 2031).year == 2031
    assert parse_bsd("Dec 10 2019 06:55:46", SyslogYear(reference=TODAY)).year == 2019
    with pytest.raises(ValueError, match="invalid syslog timestamp"):
        parse_bsd("Feb 29 10:00:00", 2026)


def test_the_tolerance_is_read_in_the_logs_zone() -> None:
    """Kiritimati is UTC+14: at 12:00 UTC on 7 December it is 02:00 on the 8th there."""
    rule = SyslogYear(reference=TODAY)
    stamp = "Dec  9 01:00:00"  # 23 h after 02:00 local, 37 h after 12:00 UTC
    with naive_zone("Pacific/Kiritimati"):
        assert parse_bsd(stamp, rule) == datetime(2026, 12, 8, 11, 0, tzinfo=UTC)
    assert parse_bsd(stamp, rule).year == 2025


_STAMPS = st.builds(
    lambda month, day, h, m, s: f"{month} {day:2d} {h:02d}:{m:02d}:{s:02d}",
    st.sampled_from(list(MONTHS)),
    st.integers(1, 31),
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 59),
)


@given(
    st.lists(_STAMPS, min_size=1, max_size=8),
    st.datetimes(datetime(1990, 1, 1), datetime(2300, 1, 1), timezones=st.just(UTC)),
)
def test_line_and_vectorised_paths_agree(stamps: list[str], reference: datetime) -> None:
    rule = SyslogYear(reference=reference)
    vectorised = pl.DataFrame({"t": stamps}).select(bsd_expr(pl.col("t"), rule))["t"].to_list()
    for stamp, fast in zip(stamps, vectorised, strict=True):
        try:
            slow = parse_bsd(stamp, rule)
        except ValueError:  # 31 April and the like
            assert fast is None
            continue
        assert fast == slow
        assert reference + TOLERANCE - timedelta(days=366 * 4) < slow <= reference + TOLERANCE


_NEW_YEAR = [
    "Dec 31 23:59:58 gw sshd[1]: Failed password for root from 203.0.113.9 port 1 ssh2",
    "Dec 31 23:59:59 gw sshd[1]: Failed password for root from 203.0.113.9 port 2 ssh2",
    "Jan  1 00:00:00 gw sshd[1]: Failed password for root from 203.0.113.9 port 3 ssh2",
    "Jan  1 00:00:03 gw sshd[1]: Accepted password for root from 203.0.113.9 port 4 ssh2",
]


@pytest.mark.parametrize(
    "reference",
    [datetime(2027, 1, 1, 0, 0, 5, tzinfo=UTC), datetime(2027, 6, 30, tzinfo=UTC)],
    ids=["live", "months-later"],
)
def test_a_file_across_new_year_keeps_increasing(
    reference: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    _at(reference, monkeypatch)
    parsed = OpenSshParser().parse_chunk(_NEW_YEAR, 1, "auth.log")
    times = parsed.events.sort("line")["timestamp"].to_list()
    assert times[0] == datetime(2026, 12, 31, 23, 59, 58, tzinfo=UTC)
    assert times[-1] == datetime(2027, 1, 1, 0, 0, 3, tzinfo=UTC)
    assert times == sorted(times)


_YEAR_LESS = {
    "asa": (
        AsaParser,
        "Dec 10 06:55:46 fw %ASA-4-106023: Deny tcp src outside:203.0.113.9/4 "
        'dst inside:10.0.0.5/22 by access-group "out" [0x0, 0x0]',
    ),
    "iptables": (
        IptablesParser,
        "Dec 10 06:55:46 gw kernel: [1.0] IN=eth0 OUT= "
        "SRC=203.0.113.9 DST=10.0.0.5 LEN=60 PROTO=TCP SPT=4 DPT=22 SYN",
    ),
    "openssh": (OpenSshParser, "Dec 10 06:55:46 LabSZ sshd[1]: Invalid user a from 203.0.113.9"),
    "fastlog": (
        FastLogParser,
        "12/10-06:55:46.123456  [**] [1:2001219:20] ET SCAN Potential "
        "SSH Scan [**] [Classification: Attempted Information Leak] [Priority: 2] "
        "{TCP} 203.0.113.9:4 -> 10.0.0.5:22",
    ),
}


@pytest.mark.parametrize("fmt", sorted(_YEAR_LESS))
def test_every_year_less_parser_infers_the_year(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _at(TODAY, monkeypatch)
    parser_cls, line = _YEAR_LESS[fmt]
    parsed = parser_cls().parse_chunk([line], 1, "x")
    assert parsed.dead_letters == []
    assert parsed.events["timestamp"].item() == datetime(
        2025, 12, 10, 6, 55, 46, 123456 if fmt == "fastlog" else 0, tzinfo=UTC
    )


def test_pfsense_infers_the_year(monkeypatch: pytest.MonkeyPatch) -> None:
    _at(TODAY, monkeypatch)
    line = (
        "Dec 10 06:55:46 pf filterlog[1]: 5,,,1000000103,igb0,match,block,in,4,0x0,,64,0,0,"
        "DF,6,tcp,60,203.0.113.9,10.0.0.5,4,22,0,S,1,,64240,,mss"
    )
    parsed = PfsenseParser().parse_chunk([line], 1, "x")
    assert parsed.events["timestamp"].item() == datetime(2025, 12, 10, 6, 55, 46, tzinfo=UTC)


@pytest.mark.skipif(not LOGHUB.is_dir(), reason="../shared/data/loghub-openssh is absent")
def test_loghub_sample_is_dated_last_december(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read on 7 December 2026, "Dec 10" is 10 December 2025, not three days in the future."""
    _at(TODAY, monkeypatch)
    stream = EventStream([LOGHUB / "OpenSSH_2k.log"])
    frame = pl.concat([frame for _, frame in stream])
    assert frame["timestamp"].min() == datetime(2025, 12, 10, 6, 55, 46, tzinfo=UTC)
    assert frame["timestamp"].max() == datetime(2025, 12, 10, 11, 4, 45, tzinfo=UTC)
