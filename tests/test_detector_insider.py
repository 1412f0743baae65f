"""InsiderDetector on event frames built directly (no parser involved)."""

from __future__ import annotations

import random
import re
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from test_detector_insider_data import (
    BASELINE_END,
    MB,
    at,
    cloud_upload,
    company,
    detection_days,
    directory,
    ev,
    frame,
    keylogger,
    mailed_attachments,
    ramp,
    scenario_3,
    usb_theft,
)

from siem_consensus.detectors import get_detector
from siem_consensus.detectors.insider import InsiderDetector, InsiderThresholds
from siem_consensus.detectors.insider._baseline import usual_hours
from siem_consensus.enrich.attack import is_valid_technique
from siem_consensus.errors import UsageError
from siem_consensus.models import Incident, Severity

REQUIRED_STATS = {
    "user", "role", "department", "baseline_days", "active_days", "events", "volume_bytes",
    "baseline_daily_bytes", "volume_ratio", "downloads", "new_resources",
    "new_resource_examples", "off_hours_share", "usual_hours", "new_hosts",
    "removable_media_first_time", "removable_media_events", "job_sites", "cloud_uploads",
    "external_attachments", "privilege_actions", "left_company", "features", "pattern",
    "narrative", "population",
}  # fmt: skip
POPULATION_KEYS = {
    "keys", "score_mean", "score_std", "volume_ratio_mean", "volume_ratio_std", "features_mean",
    "features_std",
}  # fmt: skip
BENIGN_ODDITIES = ("night.owl", "tom.traveller", "adam.admin", "uma.usb", "hank.hr")
INSIDERS = {
    "bob.engineer": "data_exfiltration",
    "erin.sales": "removable_media_exfiltration",
    "frank.fin": "cloud_exfiltration",
    "gina.fin": "email_exfiltration",
    "adam.admin": "privilege_abuse",
}


def run(data: pl.DataFrame, detector: InsiderDetector | None = None) -> list[Incident]:
    found = detector or InsiderDetector(directory=directory())
    found.update(data)
    return found.finish()


@pytest.fixture(scope="module")
def benign() -> pl.DataFrame:
    return frame(company())


@pytest.fixture(scope="module")
def bob_night() -> pl.DataFrame:
    return frame(company() + scenario_3())


@pytest.fixture(scope="module")
def bob_incidents(bob_night: pl.DataFrame) -> list[Incident]:
    return run(bob_night)


@pytest.fixture(scope="module")
def every_scenario() -> pl.DataFrame:
    rows = company() + scenario_3() + usb_theft() + cloud_upload() + mailed_attachments()
    return frame(rows + keylogger())


def test_registered_under_insider() -> None:
    assert get_detector("insider") is InsiderDetector


def test_scenario_3_is_one_high_incident(bob_incidents: list[Incident]) -> None:
    assert len(bob_incidents) == 1
    incident = bob_incidents[0]
    stats = incident.stats
    assert incident.severity.rank >= Severity.HIGH.rank
    assert incident.kind == "data_exfiltration"
    assert incident.entities.users == ("bob.engineer",)
    assert 100 <= stats["volume_ratio"] < 1000
    assert stats["new_resource_examples"][0] == "/database/customers"
    assert {"volume", "downloads", "new_resources", "outside_peers", "off_hours"} <= set(
        stats["features"]
    )
    assert stats["off_hours_share"] > 0.5 and stats["usual_hours"] == [9, 17]
    assert stats["downloads"] == 150 and stats["role"] == "Senior Engineer"
    assert [a.technique_id for a in incident.attack] == ["T1039"]


def test_scenario_3_stats_and_narrative(bob_incidents: list[Incident]) -> None:
    stats = bob_incidents[0].stats
    assert set(stats) >= REQUIRED_STATS
    assert set(stats["population"]) == POPULATION_KEYS
    assert stats["pattern"] == "night mass download of never-seen data outside the peer group"
    narrative = stats["narrative"]
    assert re.search(r"\(3,8\d\d MB, \d{3}x the 5\.\d MB daily baseline\)", narrative)
    for text in ("bob.engineer", "150 files", "/database/customers", "02:00",
                 "outside Engineering", "daily baseline"):  # fmt: skip
        assert text in narrative
    assert stats["left_company"] is False


def test_evidence_cites_real_events(bob_night: pl.DataFrame, bob_incidents: list[Incident]) -> None:
    incident = bob_incidents[0]
    ids = set(bob_night.select(pl.format("{}:{}", "source", "line"))["source"].to_list())
    assert incident.evidence_event_ids and set(incident.evidence_event_ids) <= ids
    paths = [e.file_path for e in incident.evidence if e.file_path]
    assert any(p.startswith("/database/customers/") for p in paths)
    assert len(incident.evidence) <= InsiderThresholds().evidence_limit


def test_assign_maps_the_night_to_the_incident(
    bob_night: pl.DataFrame, bob_incidents: list[Incident]
) -> None:
    detector = InsiderDetector()
    members = detector.assign(bob_night, bob_incidents)
    assert members["incident_id"].unique().to_list() == [bob_incidents[0].id]
    member_rows = bob_night.join(
        members.with_columns(pl.col("event_id").str.split(":").list.last().cast(pl.Int64)
                             .alias("line")), on="line")  # fmt: skip
    assert member_rows["user_name"].unique().to_list() == ["bob.engineer"]
    downloads = member_rows.filter(pl.col("file_path").str.starts_with("/database/customers"))
    assert downloads.height == 150


def test_benign_company_raises_nothing_high(benign: pl.DataFrame) -> None:
    incidents = run(benign)
    assert not [i for i in incidents if i.severity.rank >= Severity.HIGH.rank]
    assert not [i for i in incidents if i.entities.users[0] in BENIGN_ODDITIES]


def test_every_injected_scenario_is_found(every_scenario: pl.DataFrame) -> None:
    detector = InsiderDetector(directory=directory(left=["erin.sales", "adam.admin"]))
    incidents = run(every_scenario, detector)
    kinds = {i.entities.users[0]: i.kind for i in incidents}
    assert kinds == INSIDERS
    for incident in incidents:
        assert all(is_valid_technique(a.technique_id) for a in incident.attack)
        assert incident.severity.rank >= Severity.MEDIUM.rank
    by_user = {i.entities.users[0]: i for i in incidents}
    assert by_user["erin.sales"].stats["left_company"] is True
    assert "leaver" in by_user["erin.sales"].stats["features"]
    assert by_user["adam.admin"].stats["keylogger"] is True
    assert "T1056.001" in [a.technique_id for a in by_user["adam.admin"].attack]
    assert by_user["gina.fin"].stats["personal_attachments"] == 8


def test_one_weak_feature_never_alerts(benign: pl.DataFrame) -> None:
    day = detection_days(1, first=2)[0]
    visits = [ev("alice.dev", at(day, 12), "web", "www_visit",
                 url_original="https://www.linkedin.com/jobs")]  # fmt: skip
    usb = [ev("carol.dev", at(day, 11), "device", "connect")]
    incidents = run(pl.concat([benign, frame(visits + usb, source="extra.log")]))
    assert not [i for i in incidents if i.entities.users[0] in ("alice.dev", "carol.dev")]


def test_volume_ramp_still_fires_despite_trailing_updates() -> None:
    detector = InsiderDetector(directory=directory())
    run(frame(company(users=["carol.dev", "alice.dev", "bob.engineer"]) + ramp()), detector)
    days = detector.user_days.filter(pl.col("user") == "carol.dev").sort("day")
    ramp_days = days.filter(pl.col("bytes") >= 80 * MB)
    assert ramp_days.height == 7
    assert (ramp_days["s_volume"] > 0).all()
    assert ramp_days["reference"].max() <= 5.5 * MB * 1.1**2  # capped growth
    assert ramp_days["ratio"].to_list() == sorted(ramp_days["ratio"].to_list())


def test_without_the_growth_cap_the_ramp_would_be_absorbed() -> None:
    loose = InsiderThresholds(volume_growth_per_week=1000.0, trailing_days=3)
    detector = InsiderDetector(loose, directory=directory())
    run(frame(company(users=["carol.dev", "alice.dev"]) + ramp()), detector)
    late = detector.user_days.filter(pl.col("user") == "carol.dev").sort("day").tail(3)
    assert (late["ratio"] < 10).all()


def test_novelty_is_not_absorbed_by_one_early_touch(bob_night: pl.DataFrame) -> None:
    day = BASELINE_END + timedelta(days=1)
    path = "/database/customers/customer_000.csv"
    touch = [ev("bob.engineer", at(day, 10), "file", "file_open", file_path=path)]
    incidents = run(pl.concat([bob_night, frame(touch, source="touch.log")]))
    assert "new_resources" in incidents[0].stats["features"]


def test_thresholds_are_configurable(bob_night: pl.DataFrame) -> None:
    strict = InsiderThresholds(volume_ratio=1000.0, downloads_min=500)
    incidents = run(bob_night, InsiderDetector(strict, directory=directory()))
    assert incidents and not {"volume", "downloads"} & set(incidents[0].stats["features"])
    assert not run(bob_night, InsiderDetector(InsiderThresholds(min_families=4)))
    with pytest.raises(
        ValueError, match=r"baseline_days\s+Input should be greater than or equal to 1"
    ):
        InsiderThresholds(baseline_days=0)


def test_site_lists_are_configurable(benign: pl.DataFrame) -> None:
    day = detection_days(1, first=3)[0]
    rows = [ev("alice.dev", at(day, 19 + j / 60), "web", "www_upload",
               url_original="https://files.example-drive.net/up", source_bytes=20 * MB)
            for j in range(10)]  # fmt: skip
    data = pl.concat([benign, frame(rows, source="up.log")])
    plain = run(data)
    custom = run(data, InsiderDetector(directory=directory(), cloud_sites=["example-drive.net"]))
    assert [i.kind for i in custom if i.entities.users[0] == "alice.dev"] == ["cloud_exfiltration"]
    assert not [i for i in plain if i.kind == "cloud_exfiltration"]


def test_users_without_baseline_get_no_novelty(benign: pl.DataFrame) -> None:
    day = detection_days(1, first=2)[0]
    rows = [ev("new.hire", at(day, 9 + j / 20), "file", "file_download",
               file_path=f"/shared/onboarding/pack_{j}.pdf", destination_bytes=2 * MB)
            for j in range(120)]  # fmt: skip
    detector = InsiderDetector(directory=directory())
    run(pl.concat([benign, frame(rows, source="hire.log")]), detector)
    days = detector.user_days.filter(pl.col("user") == "new.hire")
    assert days["s_new_resources"].to_list() == [0.0] and days["s_volume"].to_list() == [0.0]


def test_rows_without_user_or_time_are_counted(bob_night: pl.DataFrame) -> None:
    broken = bob_night.head(3).with_columns(
        pl.Series("user_name", [None, "bob.engineer", "bob.engineer"], pl.String),
        pl.Series("timestamp", [None, None, bob_night["timestamp"][2]]),
    )
    detector = InsiderDetector()
    detector.update(broken)
    assert detector.counters == {"events": 3, "no_user": 1, "untimed": 1}


def test_finished_detector_refuses_more(bob_night: pl.DataFrame) -> None:
    detector = InsiderDetector()
    assert detector.finish() == [] and detector.population["keys"] == 0
    with pytest.raises(UsageError, match="InsiderDetector is finished; create a new one"):
        detector.update(bob_night.head(5))


def test_usual_hours_wrap_midnight() -> None:
    night = [0] * 24
    for hour in (22, 23, 0, 1, 2, 3):
        night[hour] = 10
    assert usual_hours(night, 0.9) == (22, 28)
    day = [0] * 24
    for hour in range(9, 17):
        day[hour] = 5
    assert usual_hours(day, 0.9) == (9, 17)
    assert usual_hours([0] * 24, 0.9) == (0, 24)


def test_directory_matches_email_local_part(bob_night: pl.DataFrame) -> None:
    ldap = directory().with_columns(
        pl.format("U{}", pl.int_range(pl.len())).alias("user_id")
    )  # CERT-style ids; events carry the mail local part
    incidents = run(bob_night, InsiderDetector(directory=ldap))
    assert incidents[0].stats["department"] == "Engineering"


def test_population_is_over_detection_user_days(bob_incidents: list[Incident]) -> None:
    population = bob_incidents[0].stats["population"]
    assert population["keys"] > 100
    assert 0 < population["score_mean"] < bob_incidents[0].score


def test_shuffled_rows_give_the_same_result(bob_night: pl.DataFrame) -> None:
    rng = random.Random(3)
    order = list(range(bob_night.height))
    rng.shuffle(order)
    detector = InsiderDetector(directory=directory())
    shuffled = bob_night[order]
    for start in range(0, shuffled.height, 997):
        detector.update(shuffled.slice(start, 997))
    again = detector.finish()
    first = run(bob_night)
    assert [i.model_dump() for i in again] == [i.model_dump() for i in first]


def test_every_threshold_is_documented() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "insider.md").read_text()
    missing = [name for name in InsiderThresholds.model_fields if f"`{name}`" not in text]
    assert not missing, f"undocumented thresholds: {missing}"


def test_unknown_feature_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown features"):
        InsiderThresholds(weights={"volumes": 0.3})
    assert InsiderThresholds(weights={"volume": 0.5}).weight("off_hours") == 0.15
