"""Threat-intel lists from local files: addresses, blocks, domains and their list names."""

from __future__ import annotations

from pathlib import Path

import pytest

from siem_consensus.enrich.intel import IntelHit, ThreatIntel
from siem_consensus.errors import ConfigError


@pytest.fixture
def intel(tmp_path: Path) -> ThreatIntel:
    drop = tmp_path / "spamhaus-drop.txt"
    drop.write_text("; Spamhaus DROP\n1.10.16.0/20 ; SBL256894\n\n185.220.101.45 # tor exit\n")
    feed = tmp_path / "feed.csv"
    feed.write_text("indicator,source\nevil.example,abuse-feed\n203.0.113.66,\n2001:db8::/32,v6\n")
    return ThreatIntel.from_files(drop, feed)


def test_ip_lookups_match_addresses_and_blocks(intel: ThreatIntel) -> None:
    assert intel.lookup_ip("185.220.101.45") == (IntelHit("185.220.101.45", "spamhaus-drop"),)
    assert intel.lookup_ip("1.10.20.3") == (IntelHit("1.10.16.0/20", "spamhaus-drop"),)
    assert intel.lookup_ip("203.0.113.66") == (IntelHit("203.0.113.66", "feed"),)
    assert intel.lookup_ip("2001:db8::5") == (IntelHit("2001:db8::/32", "v6"),)
    assert intel.lookup_ip("8.8.8.8") == ()
    assert intel.lookup_ip("not-an-ip") == () and intel.lookup_ip(None) == ()
    assert len(intel) == 5


def test_domain_lookups_match_subdomains_only(intel: ThreatIntel) -> None:
    hit = (IntelHit("evil.example", "abuse-feed"),)
    assert intel.lookup_domain("evil.example") == hit
    assert intel.lookup_domain("CDN.Evil.Example.") == hit
    assert intel.lookup_domain("notevil.example") == ()
    assert intel.lookup("a.evil.example") == hit and intel.lookup("185.220.101.45")


def test_bad_entries_name_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("1.2.3.4\nnot a thing!\n")
    with pytest.raises(ConfigError, match="bad.txt, line 2"):
        ThreatIntel.from_files(bad)
    headless = tmp_path / "x.csv"
    headless.write_text("colour\nred\n")
    with pytest.raises(ConfigError, match="no indicator column"):
        ThreatIntel.from_files(headless)
    with pytest.raises(ConfigError, match="cannot read"):
        ThreatIntel.from_files(tmp_path / "missing.txt")


def test_add_rejects_garbage() -> None:
    intel = ThreatIntel()
    with pytest.raises(ValueError, match="not an IP address"):
        intel.add("???", "x")
    intel.add("10.0.0.0/8", "internal-test")
    assert intel.lookup_ip("10.1.2.3")
