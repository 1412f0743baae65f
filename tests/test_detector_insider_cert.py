"""The insider features behind CERT r4.2's scenarios, on frames built directly, at their edges.

First-ever after-hours logons, leak-site requests, removable media and logons on another
user's machine, mail from another user's machine or address, mass e-mail; each tested on
both sides of its rule, plus the shipped site list.
"""

from __future__ import annotations

import functools
import json
from datetime import date
from importlib import resources
from typing import Any

import polars as pl
import pytest
from test_detector_insider_data import (
    BASELINE_END,
    COMPANY,
    PEOPLE,
    Row,
    at,
    company,
    detection_days,
    directory,
    ev,
    frame,
    workdays,
)

from siem_consensus.detectors.insider import InsiderDetector, InsiderThresholds
from siem_consensus.detectors.insider._sites import LEAK_SITES, SiteLists
from siem_consensus.models import Severity

DAY = detection_days(1, first=5)[0]


@functools.cache
def _benign() -> tuple[Row, ...]:
    return tuple(company())


def score(extra: list[Row], cfg: InsiderThresholds | None = None) -> InsiderDetector:
    """The detector after the company plus ``extra`` rows."""
    detector = InsiderDetector(cfg, directory=directory())
    detector.update(frame([dict(r) for r in _benign()] + extra))
    detector.finish()
    return detector


def strength(detector: InsiderDetector, user: str, feature: str, day: date = DAY) -> float:
    days = detector.user_days.filter((pl.col("user") == user) & (pl.col("day") == day))
    assert days.height == 1, (user, day)
    return float(days[f"s_{feature}"][0])


def logon(user: str, hour: float, host: str | None = None, day: date = DAY) -> Row:
    return ev(user, at(day, hour), "logon", "Logon", host_name=host or PEOPLE[user]["pc"])


def mail(user: str, recipients: int, day: date = DAY, **extra: Any) -> Row:
    to = ",".join(f"person{k}@{COMPANY}" for k in range(recipients))
    fields: dict[str, Any] = {"email_from": f"{user}@{COMPANY}", "email_to": to, **extra}
    return ev(user, at(day, 11), "email", "Send", **fields)


# --- first-ever after-hours logons ---------------------------------------------------------


@pytest.mark.parametrize(("hour", "fires"), [(19.98, False), (20.0, True), (6.99, True)])
def test_after_hours_first_at_the_working_day_edges(hour: float, fires: bool) -> None:
    detector = score([logon("carol.dev", hour)])
    assert (strength(detector, "carol.dev", "after_hours_first") > 0) is fires


def test_after_hours_first_not_for_someone_who_always_worked_late() -> None:
    detector = score([logon("night.owl", 22), logon("carol.dev", 22)])
    assert strength(detector, "night.owl", "after_hours_first") == 0
    assert strength(detector, "carol.dev", "after_hours_first") == 1


def test_after_hours_first_needs_a_logon_not_a_logoff() -> None:
    late = ev("carol.dev", at(DAY, 22), "logon", "Logoff", host_name=PEOPLE["carol.dev"]["pc"])
    assert strength(score([late]), "carol.dev", "after_hours_first") == 0


def test_one_baseline_night_makes_after_hours_familiar() -> None:
    first = workdays()[2]
    detector = score([logon("carol.dev", 22, day=first), logon("carol.dev", 22)])
    assert strength(detector, "carol.dev", "after_hours_first") == 0


# --- leak sites ----------------------------------------------------------------------------


def _visit(user: str, url: str, day: date = DAY) -> Row:
    return ev(user, at(day, 12), "web", "WWW Visit", url_original=url)


@pytest.mark.parametrize(
    ("url", "fires"),
    [
        ("http://wikileaks.org/submit", True),
        ("https://www.cryptome.org/2010/x.htm", True),
        ("https://wikileaks.org.example.net/", False),
        ("https://notwikileaks.org/", False),
    ],
)
def test_leak_site_by_domain(url: str, fires: bool) -> None:
    assert (strength(score([_visit("carol.dev", url)]), "carol.dev", "leak_site") > 0) is fires


def test_leak_site_is_rare_gated() -> None:
    base = workdays()[:10]
    habit = [_visit("alice.dev", "https://wikileaks.org/plusd/", d) for d in base[:2]]
    detector = score([*habit, _visit("alice.dev", "https://wikileaks.org/x")])
    assert strength(detector, "alice.dev", "leak_site") == 0  # 2 of 10 baseline days > 10%
    detector = score([*habit[:1], _visit("alice.dev", "https://wikileaks.org/x")])
    assert strength(detector, "alice.dev", "leak_site") == 1  # 1 of 10 = rare_share


def test_leak_sites_ship_as_data() -> None:
    shipped = json.loads(
        resources.files("siem_consensus.detectors.insider").joinpath("sites.json").read_text()
    )
    assert "wikileaks.org" in shipped["leak"] and tuple(shipped["leak"]) == LEAK_SITES
    lists = SiteLists.of(leak_sites=["leaks.example"])
    assert lists.leak_sites == ("leaks.example",) and "wikileaks.org" in lists.cloud_sites


# --- another user's machine or address -----------------------------------------------------


def test_removable_media_on_another_users_pc() -> None:
    alice_pc = PEOPLE["alice.dev"]["pc"]
    rows = [
        logon("carol.dev", 10, alice_pc),
        ev("carol.dev", at(DAY, 10.1), "device", "Connect", host_name=alice_pc),
        ev("dan.sales", at(DAY, 10.1), "device", "Connect"),
    ]
    detector = score(rows)
    assert strength(detector, "carol.dev", "foreign_media") == 1
    assert strength(detector, "dan.sales", "foreign_media") == 0
    assert strength(detector, "dan.sales", "removable_media_first_time") == 1


def test_removable_media_on_that_pc_in_the_baseline_is_not_new() -> None:
    alice_pc = PEOPLE["alice.dev"]["pc"]
    earlier = workdays()[4]
    rows = [
        ev("carol.dev", at(day, 10.1), "device", "Connect", host_name=alice_pc)
        for day in (earlier, DAY)
    ]
    assert strength(score(rows), "carol.dev", "foreign_media") == 0


def test_uma_plugs_her_usb_into_her_own_pc_every_day() -> None:
    detector = score([])
    days = detector.user_days.filter(pl.col("user") == "uma.usb")
    assert days["s_foreign_media"].sum() == 0 and days["s_removable_media_first_time"].sum() == 0


def test_logon_on_another_users_pc_except_for_administrators() -> None:
    alice_pc = PEOPLE["alice.dev"]["pc"]
    detector = score([logon("carol.dev", 10, alice_pc), logon("adam.admin", 10, alice_pc)])
    assert strength(detector, "carol.dev", "foreign_logon") == 1
    assert strength(detector, "adam.admin", "foreign_logon") == 0  # hops to PCs every day


@pytest.mark.parametrize(
    ("host", "sender", "fires"),
    [
        (PEOPLE["alice.dev"]["pc"], "adam.admin", True),  # from alice's PC
        (PEOPLE["adam.admin"]["pc"], "alice.dev", True),  # as alice
        (PEOPLE["adam.admin"]["pc"], "adam.admin", False),  # himself
        (PEOPLE["adam.admin"]["pc"], "stranger", False),  # an address nobody owns
    ],
)
def test_mail_from_another_users_pc_or_address(host: str, sender: str, fires: bool) -> None:
    row = mail("adam.admin", 1, host_name=host, email_from=f"{sender}@{COMPANY}")
    detector = score([row])
    assert (strength(detector, "adam.admin", "foreign_mail") > 0) is fires


# --- mass e-mail ---------------------------------------------------------------------------


@pytest.mark.parametrize(("recipients", "fires"), [(19, False), (20, True)])
def test_mass_email_minimum(recipients: int, fires: bool) -> None:
    detector = score([mail("hank.hr", recipients)])
    assert (strength(detector, "hank.hr", "mass_email") > 0) is fires


@pytest.mark.parametrize(("recipients", "fires"), [(30, False), (31, True)])
def test_mass_email_against_the_users_largest_baseline_mail(recipients: int, fires: bool) -> None:
    baseline = mail("hank.hr", 10, day=workdays()[3])
    detector = score([baseline, mail("hank.hr", recipients)])
    assert (strength(detector, "hank.hr", "mass_email") > 0) is fires


def test_cc_and_bcc_count_as_recipients() -> None:
    to = ",".join(f"p{k}@{COMPANY}" for k in range(25))
    row = ev("hank.hr", at(DAY, 11), "email", "Send", email_from=f"hank.hr@{COMPANY}", email_to=to)
    detector = score([row])
    days = detector.user_days.filter((pl.col("user") == "hank.hr") & (pl.col("day") == DAY))
    assert days["s_mass_email"][0] == 1


# --- corroboration -------------------------------------------------------------------------


def test_one_cert_feature_alone_never_makes_an_incident() -> None:
    incidents = score([logon("carol.dev", 22)]).finish()
    assert not [i for i in incidents if i.entities.users == ("carol.dev",)]


def test_the_wikileaks_night_is_an_incident_with_its_evidence() -> None:
    rows = [
        logon("carol.dev", 22),
        ev("carol.dev", at(DAY, 22.1), "device", "Connect"),
        _visit("carol.dev", "http://wikileaks.org/submit"),
    ]
    rows[-1]["timestamp"] = at(DAY, 22.3)
    detector = InsiderDetector(directory=directory(left=["carol.dev"]))
    detector.update(frame([dict(r) for r in _benign()] + rows))
    (carol,) = [i for i in detector.finish() if i.entities.users == ("carol.dev",)]
    assert {"after_hours_first", "removable_media_first_time", "leak_site", "leaver"} <= set(
        carol.stats["features"]
    )
    assert carol.severity.rank >= Severity.HIGH.rank and carol.kind == "cloud_exfiltration"
    assert carol.stats["after_hours_logons"] == 1 and carol.stats["leak_site_visits"] == 1
    assert "leak-site" in carol.stats["pattern"]
    assert BASELINE_END < DAY


def test_rules_count_a_raw_indicator_and_its_feature_once() -> None:
    from siem_consensus.analysts._rules_insider import INSIDER_RULES

    judge = INSIDER_RULES["cloud_exfiltration"].judge
    stats = {"features": ["leak_site", "leaver"], "leak_site_visits": 3, "left_company": True}
    is_threat, _, why = judge(stats)
    assert not is_threat and "3 requests to leak sites" in why
    stats = {**stats, "features": ["leak_site", "leaver", "after_hours_first"]}
    stats["after_hours_logons"] = 2
    is_threat, confidence, why = judge(stats)
    assert is_threat and confidence == pytest.approx(0.81)
    assert "2 after-hours logons, never before" in why
    mass = {"features": ["foreign_mail", "leaver"], "foreign_mails": 1, "left_company": True}
    assert judge({**mass, "max_recipients": 19})[0] is False
    assert judge({**mass, "max_recipients": 20})[0] is True


def test_a_hot_desker_mailing_from_a_colleagues_pc_is_a_foreign_logon_only() -> None:
    alice_pc = PEOPLE["alice.dev"]["pc"]
    detector = score([logon("carol.dev", 10, alice_pc), mail("carol.dev", 1, host_name=alice_pc)])
    assert strength(detector, "carol.dev", "foreign_logon") == 1
    assert strength(detector, "carol.dev", "foreign_mail") == 0
