"""What the insider rule says: which independent signals it counts (and how it names them),
the confidence per signal count, and the reasons; worked out by hand from
``siem_consensus/analysts/_rules_insider.py``. The three-signal line itself is in
``tests/test_rules_thresholds.py``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from siem_consensus.analysts import RulesAnalyst
from siem_consensus.analysts._rules_insider import insider_rule
from siem_consensus.analysts.rules import KIND_RULES
from siem_consensus.models import Incident, Severity


def _judge(**stats: Any) -> tuple[bool, float, list[str]]:
    return KIND_RULES["insider_risk"].judge(stats)


def test_every_signal_is_named_once_and_confidence_is_capped() -> None:
    threat, conf, why = _judge(
        features=["leak_site", "job_search", "after_hours_first", "", None],
        volume_ratio=12,
        off_hours_share=0.6,
        removable_media_first_time="yes",
        cloud_uploads=3,
        external_attachments=["a.pdf", "b.xlsx"],
        job_sites=0,
        privilege_actions=1,
        leak_site_visits=4,
        foreign_media_events=2,
        foreign_mails=1,
        max_recipients=25,
        after_hours_logons=7,
        left_company=True,
        pattern="scenario 2",
    )
    assert threat is True
    assert conf == pytest.approx(0.95)  # 0.6 + 0.07 x 13 = 1.51, capped
    assert why == [
        "13 independent signals",
        "4 requests to leak sites",  # the raw count restates the leak_site feature: one signal
        "job search",
        "7 after-hours logons, never before",
        "data volume 12x the user's baseline",
        "60% of it off-hours",
        "first-ever removable media use",
        "3 cloud/paste uploads",
        "2 attachments mailed outside",
        "1 privilege actions",
        "2 removable-media events on others' machines",
        "1 mails sent from another user's machine or address",
        "a mail to 25 recipients",
        "the user left the company right after",
        "pattern: scenario 2",
    ]


def test_three_signals_make_a_threat_at_their_confidence() -> None:
    assert _judge(features=["odd_hours"], cloud_uploads=1, max_recipients=20) == (
        True,
        pytest.approx(0.81),  # 0.6 + 0.07 x 3
        ["3 independent signals", "odd hours", "1 cloud/paste uploads", "a mail to 20 recipients"],
    )


@pytest.mark.parametrize(
    ("stats", "count", "confidence"),
    [
        ({"features": ["a", "b"]}, 2, 0.6),
        ({"features": ["a"], "max_recipients": 19}, 1, 0.75),  # 19 recipients: no mass mail
        ({"left_company": "no", "removable_media_first_time": 0}, 0, 0.75),
        ({"foreign_mails": 1, "job_sites": 2}, 2, 0.6),
    ],
)
def test_fewer_than_three_signals_accuse_nobody(
    stats: dict[str, Any], count: int, confidence: float
) -> None:
    threat, conf, why = _judge(**stats)
    assert (threat, conf) == (False, confidence)
    assert why[-1] == f"only {count} independent signal(s): not enough to accuse anyone"
    assert len(why) == count + 1


def test_a_pattern_is_shown_only_when_it_is_text() -> None:
    assert _judge(pattern=5)[2] == ["only 0 independent signal(s): not enough to accuse anyone"]
    assert _judge(pattern="usb")[2][0] == "pattern: usb"


def test_the_after_hours_feature_is_described_with_its_logons() -> None:
    _, _, why = _judge(features=["after_hours_first"])
    assert why[0] == "0 after-hours logons, never before"


def test_an_insider_rule_gives_the_soc_its_category_goal_impact_and_actions() -> None:
    """A kind taught with ``insider_rule`` (built here: the table's rules exist before tests)."""
    rule = insider_rule("insider_data_theft", "copy data to USB media")
    case = Incident(
        id="ins-1",
        detector="insider",
        kind="usb_copy",
        title="t",
        severity=Severity.HIGH,
        score=0.8,
        evidence_event_ids=("device.csv:4",),
        stats={
            "features": ["removable_media_first_time"],
            "volume_ratio": 40,
            "left_company": True,
        },  # fmt: skip
    )
    verdict = asyncio.run(RulesAnalyst({"usb_copy": rule}).analyze(case))
    assert (verdict.is_threat, verdict.confidence) == (True, pytest.approx(0.81))
    assert verdict.category == "insider_data_theft"
    assert verdict.attacker_goal == "copy data to USB media"
    assert verdict.business_impact == (
        "loss of customer or company data; legal, regulatory and reputational exposure"
    )
    assert verdict.recommended_actions[0].startswith("Disable the account pending review")
    last = "Notify Legal and HR before any contact with the employee"
    assert verdict.recommended_actions[-1] == last
    assert verdict.rationale.startswith("3 independent signals; removable media first time")


@pytest.mark.parametrize(
    ("feature", "raw", "text"),
    [
        ("volume", {"volume_ratio": 12}, "data volume 12x the user's baseline"),
        ("off_hours", {"off_hours_share": 0.75}, "75% of it off-hours"),
        (
            "removable_media_first_time",
            {"removable_media_first_time": True},
            "first-ever removable media use",
        ),
        (
            "foreign_media",
            {"foreign_media_events": 2},
            "2 removable-media events on others' machines",
        ),
        ("mass_email", {"max_recipients": 30}, "a mail to 30 recipients"),
    ],
)
def test_a_raw_indicator_restating_a_fired_feature_is_one_signal(
    feature: str, raw: dict[str, Any], text: str
) -> None:
    threat, conf, why = _judge(features=[feature], **raw)
    assert (threat, conf) == (False, 0.75)  # one signal, not two
    assert why == [text, "only 1 independent signal(s): not enough to accuse anyone"]


def test_job_site_visits_are_named_in_the_reasons() -> None:
    assert _judge(job_sites=4)[2][0] == "4 job-search/competitor visits"
