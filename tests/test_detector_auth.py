"""AuthDetector on event frames built directly (no parser involved): every rule on both sides
of its threshold, background versus targeted severity, ATT&CK, streaming and membership."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siem_consensus.analysts import BaselineAnalyst, RulesAnalyst
from siem_consensus.detectors import get_detector
from siem_consensus.detectors.auth import AuthDetector, AuthThresholds
from siem_consensus.errors import UsageError
from siem_consensus.models import Incident, Severity, VerdictStatus
from siem_consensus.parsers.base import EVENT_SCHEMA

T0 = datetime(2026, 3, 14, 1, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parent.parent
Row = dict[str, Any]


def ev(minute: float, src: str | None, user: str | None, outcome: str | None, **extra: Any) -> Row:
    """One sshd-like event ``minute`` minutes after T0."""
    row: Row = {
        "timestamp": T0 + timedelta(minutes=minute),
        "source_ip": src,
        "user_name": user,
        "event_outcome": outcome,
        "event_action": "logon",
        "event_category": "authentication",
        "host_name": "bastion01",
    }
    row.update(extra)
    return row


def fails(src: str, user: str, n: int, start: float = 0.0, **extra: Any) -> list[Row]:
    return [ev(start + i, src, user, "failure", **extra) for i in range(n)]


def frame(*groups: Iterable[Row], source: str = "auth.log") -> pl.DataFrame:
    rows = sorted((r for g in groups for r in g), key=lambda r: r["timestamp"] or T0)
    for number, row in enumerate(rows, start=1):
        row["line"] = number
    columns = {name: [r.get(name) for r in rows] for name in EVENT_SCHEMA}
    return pl.DataFrame(columns, schema=EVENT_SCHEMA).with_columns(pl.lit(source).alias("source"))


def detect(*groups: Iterable[Row], **thresholds: Any) -> list[Incident]:
    """Incidents of the rows; background pooling off unless asked, to see each rule alone."""
    thresholds.setdefault("pool_background", False)
    detector = AuthDetector(AuthThresholds(**thresholds))
    detector.update(frame(*groups))
    return detector.finish()


def kinds(incidents: list[Incident]) -> list[str]:
    return sorted(i.kind for i in incidents)


def one(incidents: list[Incident], kind: str) -> Incident:
    [found] = [i for i in incidents if i.kind == kind]
    return found


def test_registered() -> None:
    assert get_detector("auth") is AuthDetector


@pytest.mark.parametrize(("n", "fires"), [(10, True), (9, False)])
def test_brute_force_threshold(n: int, fires: bool) -> None:
    found = detect(fails("203.0.113.9", "root", n))
    assert kinds(found) == (["account_brute_force"] if fires else [])


def test_brute_force_incident_fields() -> None:
    incident = one(detect(fails("203.0.113.9", "root", 40)), "account_brute_force")
    assert incident.detector == "auth"
    assert incident.entities.source_ips == ("203.0.113.9",)
    assert incident.entities.users == ("root",) and incident.entities.hosts == ("bastion01",)
    assert incident.stats["failures"] == 40 and incident.event_count == 40
    assert [a.technique_id for a in incident.attack] == ["T1110.001"]
    assert incident.title == "Brute force: 203.0.113.9 failed 40 times as root on bastion01"
    assert set(incident.evidence_event_ids) == {"auth.log:1", "auth.log:40"}
    assert incident.first_seen == T0 and incident.last_seen == T0 + timedelta(minutes=39)


def test_background_versus_targeted_severity() -> None:
    background = one(detect(fails("203.0.113.9", "root", 40)), "account_brute_force")
    site = one(detect(fails("203.0.113.9", "svc-backup", 40)), "account_brute_force")
    inside = one(detect(fails("10.20.4.12", "root", 40)), "account_brute_force")
    assert background.stats["background"] and not background.stats["targeted"]
    assert site.stats["targeted"] and site.stats["specific_accounts"] == ["svc-backup"]
    assert inside.stats["targeted"] and inside.stats["internal_source"]
    assert background.severity.rank <= Severity.MEDIUM.rank
    assert site.severity.rank > background.severity.rank
    assert inside.severity.rank > background.severity.rank


def test_invalid_user_is_background_even_when_not_common() -> None:
    rows = fails("203.0.113.9", "zzkq", 40, event_action="invalid_user")
    incident = one(detect(rows), "account_brute_force")
    assert incident.stats["background"] and incident.stats["specific_accounts"] == []


@pytest.mark.parametrize(("accounts", "per", "fires"), [(5, 2, True), (4, 2, False), (5, 4, False)])
def test_spraying_thresholds(accounts: int, per: int, fires: bool) -> None:
    names = ["alice", "bob", "carol", "dave", "erin"][:accounts]
    rows = [r for k, name in enumerate(names) for r in fails("198.51.100.23", name, per, 10 * k)]
    found = detect(rows)
    assert ("password_spraying" in kinds(found)) is fires


def test_spraying_uses_the_median_so_a_later_focus_does_not_hide_it() -> None:
    names = ["alice", "bob", "carol", "dave", "erin", "svc-backup"]
    rows = [r for k, name in enumerate(names) for r in fails("198.51.100.23", name, 2, 5 * k)]
    rows += fails("198.51.100.23", "svc-backup", 30, 60)
    incident = one(detect(rows), "password_spraying")
    assert incident.stats["distinct_accounts"] == 6
    assert [a.technique_id for a in incident.attack] == ["T1110.003"]


@pytest.mark.parametrize(("sources", "per", "fires"), [(5, 4, True), (4, 5, False), (5, 3, False)])
def test_distributed_thresholds(sources: int, per: int, fires: bool) -> None:
    rows = [r for k in range(sources) for r in fails(f"203.0.113.{k + 1}", "alice", per, k * 7)]
    found = detect(rows)
    assert ("distributed_brute_force" in kinds(found)) is fires


def test_distributed_ignores_sources_at_the_brute_force_line() -> None:
    rows = [r for k in range(5) for r in fails(f"203.0.113.{k + 1}", "alice", 3, k * 7)]
    rows += fails("203.0.113.99", "alice", 10, 50)  # its own brute force incident
    found = detect(rows)
    assert kinds(found) == ["account_brute_force"]


def test_background_findings_pool_into_one_incident_per_host_and_window() -> None:
    rows = [*fails("203.0.113.9", "root", 40), *fails("203.0.113.10", "admin", 12, 5)]
    rows += [ev(k, "203.0.113.60", f"x{k}", None, event_action="invalid_user") for k in range(6)]
    rows += fails("203.0.113.11", "root", 12, 5, host_name="other-host")
    found = detect(rows, pool_background=True)
    assert kinds(found) == ["background_guessing", "background_guessing"]
    [main] = [i for i in found if i.entities.hosts == ("bastion01",)]
    assert main.stats["pooled"] == {"account_brute_force": 2, "user_enumeration": 1}
    assert main.entities.source_ips == ("203.0.113.10", "203.0.113.60", "203.0.113.9")
    assert main.stats["background"] and main.severity.rank <= Severity.MEDIUM.rank
    assert (
        main.title
        == "Internet background: 3 sources failed 52 times as 8 account names on bastion01"
    )
    assert [a.technique_id for a in main.attack] == ["T1110"]
    assert len(detect(rows, pool_background=False)) == 4


@pytest.mark.parametrize(
    "targeted",
    [
        fails("10.20.4.12", "root", 12, 50),  # internal source
        fails("203.0.113.12", "svc-backup", 12, 50),  # an existing site account
        [*fails("203.0.113.13", "root", 12, 50), ev(70, "203.0.113.13", "root", "success")],
    ],
)
def test_targeted_findings_are_not_pooled(targeted: list[Row]) -> None:
    found = detect([*fails("203.0.113.9", "root", 40), *targeted], pool_background=True)
    assert sorted(i.stats["background"] for i in found) == [False, True]
    assert "background_guessing" in kinds(found) and len(found) == 2


def test_a_success_inside_a_finding_keeps_it_out_of_the_pool() -> None:
    rows = [r for k in range(6) for r in fails(f"203.0.113.{k + 1}", "root", 4, k * 7)]
    rows.append(ev(60, "203.0.113.1", "root", "success"))
    [incident] = detect(rows, pool_background=True, success_min_account_failures=100)
    assert incident.kind == "distributed_brute_force" and incident.stats["successes"] == 1
    assert not incident.stats["background"] and incident.severity.rank >= Severity.MEDIUM.rank


def test_background_accounts_pool_per_host() -> None:
    names = ["root", "admin", "oracle", "test", "ubuntu", "pi"]
    rows = [r for k, name in enumerate(names) for r in fails(f"203.0.113.{k + 1}", name, 4, k)]
    [incident] = detect(rows)
    assert incident.kind == "distributed_brute_force" and incident.stats["background"]
    assert incident.stats["distinct_sources"] == 6 and incident.stats["distinct_accounts"] == 6
    assert incident.title == (
        "Distributed brute force: 6 sources failed 24 times as 6 account names on bastion01"
    )


@pytest.mark.parametrize(("names", "fires"), [(5, True), (4, False)])
def test_enumeration_threshold(names: int, fires: bool) -> None:
    rows = [
        ev(k, "203.0.113.7", f"nobody{k}", None, event_action="invalid_user") for k in range(names)
    ]
    found = detect(rows)
    assert kinds(found) == (["user_enumeration"] if fires else [])
    if fires:
        assert [a.technique_id for a in found[0].attack] == ["T1110"]


@pytest.mark.parametrize(("n", "fires"), [(5, True), (4, False)])
def test_success_after_own_failures(n: int, fires: bool) -> None:
    rows = [
        *fails("198.51.100.23", "svc-backup", n),
        ev(n + 1, "198.51.100.23", "svc-backup", "success"),
    ]
    found = detect(rows)
    assert kinds(found) == (["success_after_failures"] if fires else [])
    if fires:
        incident = found[0]
        assert incident.severity.rank >= Severity.HIGH.rank
        assert [a.technique_id for a in incident.attack] == ["T1110", "T1078"]
        assert incident.attack[1].tactic == "Initial Access"
        assert incident.stats["via"] == "source" and incident.stats["failures_before_success"] == n


def test_failures_after_the_first_login_are_not_before_it() -> None:
    rows = [ev(0, "10.20.4.12", "bob", "success"), *fails("10.20.4.12", "bob", 8, 60)]
    rows.append(ev(120, "10.20.4.12", "bob", "success"))
    assert detect(rows) == []


def test_success_after_failures_on_other_accounts_of_the_source() -> None:
    rows = [
        r for k, name in enumerate(["a1", "a2", "a3"]) for r in fails("198.51.100.23", name, 2, k)
    ]
    rows.append(ev(30, "198.51.100.23", "deploy", "success"))
    incident = one(detect(rows), "success_after_failures")
    assert incident.stats["failures_before_success"] == 6


def test_success_after_the_accounts_failures() -> None:
    rows = [r for k in range(10) for r in fails(f"203.0.113.{k + 1}", "alice", 2, k * 3)]
    rows.append(ev(100, "192.0.2.50", "alice", "success"))
    found = detect(rows)
    incident = one(found, "success_after_failures")
    assert incident.stats["via"] == "account" and incident.stats["failures_before_success"] == 20
    rows[-1] = ev(100, "192.0.2.50", "alice", "success")
    assert "success_after_failures" not in kinds(detect(rows[2:]))  # 18 failures


def test_brute_force_that_succeeds_is_one_success_incident() -> None:
    rows = [
        *fails("198.51.100.23", "svc-backup", 30),
        ev(40, "198.51.100.23", "svc-backup", "success"),
    ]
    [incident] = detect(rows)
    assert incident.kind == "success_after_failures" and incident.stats["failures"] == 30


def test_zeek_attempt_counts() -> None:
    zeek = {"host_name": None, "destination_ip": "10.1.50.10", "user_name": None}
    rows = [
        {**ev(0, "203.0.113.9", None, "failure", auth_attempts=12), **zeek},
        {**ev(5, "198.51.100.23", None, "success", auth_attempts=6), **zeek},
    ]
    found = detect(rows)
    assert kinds(found) == ["account_brute_force", "success_after_failures"]
    success = one(found, "success_after_failures")
    assert success.stats["failures_before_success"] == 5
    assert one(found, "account_brute_force").stats["failures"] == 12
    assert success.evidence[0].destination_ip == "10.1.50.10"


def test_sshd_repeated_message_counts_its_attempts() -> None:
    rows = [
        *fails("203.0.113.9", "root", 1),
        ev(1, "203.0.113.9", "root", "failure", auth_attempts=9),
    ]
    assert one(detect(rows), "account_brute_force").stats["failures"] == 10


def test_other_categories_and_notices_are_not_attempts() -> None:
    rows = fails("203.0.113.9", "root", 20, event_category="network")
    rows += [ev(k, "203.0.113.9", "root", None, event_action="disconnect") for k in range(20)]
    detector = AuthDetector()
    detector.update(frame(rows))
    assert detector.finish() == [] and detector.counters["not_attempts"] == 40


def test_windows_are_separate() -> None:
    rows = [*fails("203.0.113.9", "root", 6), *fails("203.0.113.9", "root", 6, 24 * 60)]
    assert detect(rows) == []
    assert kinds(detect(rows, window_s=3 * 86_400)) == ["account_brute_force"]


def test_streaming_with_small_state_matches_one_batch() -> None:
    days = [
        r
        for day in range(4)
        for r in (
            *fails("203.0.113.9", "root", 15, day * 1440),
            *fails(f"198.51.100.{day}", "svc-backup", 6, day * 1440 + 30),
            ev(day * 1440 + 40, f"198.51.100.{day}", "svc-backup", "success"),
        )
    ]
    whole = frame(days)
    one_batch = AuthDetector()
    one_batch.update(whole)
    expected = [(i.id, i.kind, i.stats["failures"]) for i in one_batch.finish()]
    streamed = AuthDetector(AuthThresholds(max_open_rows=0))
    for start in range(0, whole.height, 7):
        streamed.update(whole.slice(start, 7))
    got = [(i.id, i.kind, i.stats["failures"]) for i in streamed.finish()]
    assert sorted(got) == sorted(expected) and len(got) == 8
    assert streamed.counters["late"] == 0


def test_late_events_are_counted_not_used() -> None:
    detector = AuthDetector(AuthThresholds(max_open_rows=0))
    detector.update(frame(fails("203.0.113.9", "root", 3, 5 * 1440)))
    detector.update(frame(fails("203.0.113.9", "root", 12)))
    assert detector.finish() == [] and detector.counters["late"] == 12


def test_no_source_is_counted() -> None:
    detector = AuthDetector()
    detector.update(frame(fails(None, "root", 12)))  # type: ignore[arg-type]
    assert detector.finish() == [] and detector.counters["no_source_ip"] == 12


def test_finished_detector_refuses_more() -> None:
    detector = AuthDetector()
    detector.finish()
    with pytest.raises(UsageError):
        detector.update(frame(fails("203.0.113.9", "root", 1)))


def test_assign_membership() -> None:
    rows = [*fails("203.0.113.9", "root", 12), *fails("203.0.113.9", "admin", 2, 30)]
    rows += fails("192.0.2.1", "root", 3, 5)
    rows += fails("203.0.113.9", "root", 3, 5, host_name="other-host")
    data = frame(rows)
    detector = AuthDetector()
    detector.update(data)
    [incident] = detector.finish()
    members = detector.assign(data, [incident])
    lines = sorted(int(e.split(":")[1]) for e in members["event_id"])
    expected = data.filter(
        (pl.col("source_ip") == "203.0.113.9")
        & (pl.col("user_name") == "root")
        & (pl.col("host_name") == "bastion01")
    )
    assert lines == sorted(expected["line"].to_list()) and set(members["incident_id"]) == {
        incident.id
    }


def _all_kinds() -> list[Incident]:
    rows = [*fails("203.0.113.9", "root", 40)]
    rows += [
        r
        for k, n in enumerate(["alice", "bob", "carol", "dave", "erin"])
        for r in fails("198.51.100.7", n, 2, k)
    ]
    rows += [r for k in range(6) for r in fails(f"203.0.113.{k + 20}", "svc-web", 4, k)]
    rows += [ev(k, "203.0.113.60", f"x{k}", None, event_action="invalid_user") for k in range(6)]
    rows += [*fails("198.51.100.8", "deploy", 7, 100), ev(110, "198.51.100.8", "deploy", "success")]
    rows += [ev(k, f"192.0.2.{k}", "alice", "success") for k in range(1, 12)]
    return detect(rows)


def test_embedded_analysts_judge_every_auth_kind() -> None:
    incidents = _all_kinds()
    incidents += detect(fails("203.0.113.9", "root", 40), pool_background=True)
    assert set(kinds(incidents)) == {
        "background_guessing",
        "account_brute_force",
        "password_spraying",
        "distributed_brute_force",
        "user_enumeration",
        "success_after_failures",
    }
    for incident in incidents:
        rules = asyncio.run(RulesAnalyst().analyze(incident))
        baseline = asyncio.run(BaselineAnalyst(min_population=1).analyze(incident))
        for verdict in (rules, baseline):
            assert verdict.status is VerdictStatus.OK and verdict.is_threat is not None, verdict
    success = one(incidents, "success_after_failures")
    assert asyncio.run(RulesAnalyst().analyze(success)).is_threat is True
    background = one(incidents, "account_brute_force")
    assert asyncio.run(RulesAnalyst().analyze(background)).is_threat is False


def test_every_threshold_is_documented() -> None:
    text = (ROOT / "docs" / "auth.md").read_text(encoding="utf-8")
    missing = [name for name in AuthThresholds.model_fields if f"`{name}`" not in text]
    assert not missing, f"undocumented thresholds: {missing}"


@st.composite
def _activity(draw: st.DrawFn) -> list[Row]:
    """A few days of random attempts from a handful of sources on a handful of accounts."""
    rows: list[Row] = []
    for _ in range(draw(st.integers(1, 40))):
        minute = draw(st.integers(0, 4 * 1440))
        src = draw(st.sampled_from(["203.0.113.9", "198.51.100.23", "10.20.4.12", "192.0.2.7"]))
        user = draw(st.sampled_from(["root", "alice", "svc-backup", "x1", "x2", "x3"]))
        outcome = draw(st.sampled_from(["failure", "failure", "failure", "success", None]))
        action = "invalid_user" if user.startswith("x") else "logon"
        for k in range(draw(st.integers(1, 12))):
            rows.append(ev(minute + k, src, user, outcome, event_action=action))
    return rows


@settings(max_examples=40, deadline=None)
@given(rows=_activity(), step=st.integers(1, 50), max_rows=st.sampled_from([0, 3, 10**6]))
def test_streaming_in_any_batching_gives_the_same_incidents(
    rows: list[Row], step: int, max_rows: int
) -> None:
    data = frame(rows)
    whole = AuthDetector()
    whole.update(data)
    expected = sorted((i.id, i.kind, i.event_count, i.stats["failures"]) for i in whole.finish())
    streamed = AuthDetector(AuthThresholds(max_open_rows=max_rows))
    for start in range(0, data.height, step):
        streamed.update(data.slice(start, step))
    got = sorted((i.id, i.kind, i.event_count, i.stats["failures"]) for i in streamed.finish())
    assert got == expected and streamed.counters["late"] == 0
