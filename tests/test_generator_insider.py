"""Seeded CERT-format insider generator: deterministic, parseable, ground truth in the files."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from siem_consensus.errors import ConfigError
from siem_consensus.generators.insider import (
    BASELINE_DAILY_BYTES,
    NIGHT_BYTES,
    NIGHT_DOWNLOADS,
    R42_HEADERS,
    SCENARIO_3_USER,
    SCENARIOS,
    GeneratedDataset,
    InjectedScenario,
    generate_cert_shapes_dataset,
    generate_insider_dataset,
)
from siem_consensus.parsers.cert import cert_format, cert_inputs, read_ldap
from siem_consensus.sources import EventStream

_CLOUD = ("dropbox", "wetransfer.com", "mega.nz", "pastebin.com")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> GeneratedDataset:
    return generate_insider_dataset(tmp_path_factory.mktemp("insider") / "cert")


@pytest.fixture(scope="module")
def events(dataset: GeneratedDataset) -> pl.DataFrame:
    stream = EventStream(cert_inputs(dataset.directory).event_files)
    frame = pl.concat([batch for _, batch in stream])
    assert stream.stats.dead_letters == 0
    assert stream.stats.skipped_lines == 5  # the five header rows
    return frame


def _truth(dataset: GeneratedDataset, scenario: str) -> InjectedScenario:
    return next(item for item in dataset.truth if item.scenario == scenario)


def _user(events: pl.DataFrame, user: str) -> pl.DataFrame:
    return events.filter(pl.col("user_name") == user)


def _int(value: object) -> int:
    assert isinstance(value, int)
    return value


def _files(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*.csv"))
    }


def test_generation_is_complete(dataset: GeneratedDataset, events: pl.DataFrame) -> None:
    assert set(dataset.files) == {"logon", "device", "file", "http", "email"}
    assert cert_inputs(dataset.directory).ldap == dataset.ldap
    assert sorted(path.name for path in dataset.ldap.iterdir()) == ["2026-01.csv", "2026-02.csv"]
    assert events.height == sum(dataset.rows.values())
    assert [item.scenario for item in dataset.truth] == list(SCENARIOS)


def test_same_seed_same_files_other_seed_other_files(
    dataset: GeneratedDataset, tmp_path: Path
) -> None:
    again = generate_insider_dataset(tmp_path / "again", seed=7)
    assert _files(again.directory) == _files(dataset.directory)
    assert again.truth == dataset.truth and again.benign_users == dataset.benign_users
    other = generate_insider_dataset(tmp_path / "other", seed=8, users=24, days=35)
    small = generate_insider_dataset(tmp_path / "small", seed=7, users=24, days=35)
    assert _files(other.directory) != _files(small.directory)
    assert other.truth != small.truth


def test_every_file_is_detected_as_its_cert_kind(dataset: GeneratedDataset) -> None:
    stream = EventStream(cert_inputs(dataset.directory).event_files)
    for _ in stream:
        pass
    assert stream.stats.formats == {f"{kind}.csv": f"cert-{kind}" for kind in dataset.files}


def test_scenario_3_night_mass_download(dataset: GeneratedDataset, events: pl.DataFrame) -> None:
    truth = _truth(dataset, "night_mass_download")
    assert truth.user == SCENARIO_3_USER and truth.first_day == truth.last_day
    bob = _user(events, SCENARIO_3_USER)
    night = bob.filter(pl.col("event_action") == "file_download")
    assert night.height == NIGHT_DOWNLOADS == 150
    assert night["destination_bytes"].sum() == NIGHT_BYTES == 3_800_000_000
    assert night["file_path"].str.contains(r"^/database/customers/customer_[0-9]{4}\.csv$").all()
    assert night["file_path"].n_unique() == 150
    first, last = night["timestamp"].min(), night["timestamp"].max()
    assert isinstance(first, datetime) and isinstance(last, datetime)
    assert first.date() == truth.first_day and (first.hour, first.minute) == (2, 0)
    assert timedelta(hours=2, minutes=50) <= last - first < timedelta(hours=3)
    before = bob.filter(pl.col("timestamp").dt.date() < truth.first_day)
    assert not before["file_path"].str.starts_with("/database/").any()


def test_scenario_3_baseline_is_about_5_mb_a_day(
    dataset: GeneratedDataset, events: pl.DataFrame
) -> None:
    truth = _truth(dataset, "night_mass_download")
    bob = _user(events, SCENARIO_3_USER)
    baseline = bob.filter(
        (pl.col("event_category") == "file") & (pl.col("timestamp").dt.date() < truth.first_day)
    )
    assert baseline["file_path"].str.starts_with("/shared/engineering/project_docs/").all()
    volume = pl.col("source_bytes").fill_null(0) + pl.col("destination_bytes").fill_null(0)
    daily = baseline.group_by(pl.col("timestamp").dt.date()).agg(volume.sum().alias("bytes"))
    assert daily.height >= 20  # about 30 days of history, working days only
    mean = daily["bytes"].mean()
    assert isinstance(mean, float)
    assert 0.9 * BASELINE_DAILY_BYTES <= mean <= 1.1 * BASELINE_DAILY_BYTES
    assert round(NIGHT_BYTES / mean, -1) in range(700, 830, 10)  # about 760x
    hours = bob.filter(
        (pl.col("event_action") == "logon") & (pl.col("timestamp").dt.date() != truth.first_day)
    )["timestamp"].dt.hour()
    assert hours.min() == 8 and hours.max() == 9


def test_theft_before_resignation(dataset: GeneratedDataset, events: pl.DataFrame) -> None:
    truth = _truth(dataset, "theft_before_resignation")
    mine = _user(events, truth.user)
    assert mine["timestamp"].max().date() == truth.last_day  # type: ignore[union-attr]
    devices = mine.filter(pl.col("event_category") == "device")
    first_usb = devices["timestamp"].min()
    assert isinstance(first_usb, datetime)
    assert truth.last_day - first_usb.date() <= timedelta(days=6)
    copies = mine.filter(
        (pl.col("event_action") == "file_copy") & (pl.col("message") == "to_removable_media")
    )
    first_copy = copies["timestamp"].min()
    assert isinstance(first_copy, datetime)
    assert copies.height >= 80 and first_copy > first_usb
    jobs = mine.filter(pl.col("url_original").str.contains("jobs|indeed|monster|glassdoor|careers"))
    assert jobs["timestamp"].dt.date().n_unique() >= 10
    ldap = read_ldap(dataset.ldap)
    row = ldap.filter(pl.col("user_id") == truth.user).row(0, named=True)
    assert (row["first_month"], row["last_month"]) == ("2026-01", "2026-01")
    assert truth.user in (dataset.ldap / "2026-01.csv").read_text()
    assert truth.user not in (dataset.ldap / "2026-02.csv").read_text()


def test_admin_keylogger(dataset: GeneratedDataset, events: pl.DataFrame) -> None:
    truth = _truth(dataset, "admin_keylogger")
    admin = _user(events, truth.user)
    ldap = read_ldap(dataset.ldap).filter(pl.col("user_id") == truth.user)
    assert ldap["role"].to_list() == ["ITAdmin"]
    exe = admin.filter(
        (pl.col("event_action") == "www_download") & pl.col("url_original").str.ends_with(".exe")
    )
    assert exe.height == 1 and exe["timestamp"].dt.date().to_list() == [truth.first_day]
    own_pc = admin.filter(pl.col("event_action") == "logon")["host_name"].mode().to_list()
    visits = admin.filter(
        (pl.col("event_action") == "file_write") & pl.col("file_path").str.contains("WinSvc")
    )
    assert visits["host_name"].n_unique() >= 2 and not set(visits["host_name"]) & set(own_pc)
    mail = admin.filter(pl.col("email_to").str.contains("@gmail.com"))
    assert mail.height == 1 and mail["email_attachments"].item() == visits.height
    assert mail["timestamp"].dt.date().item() == truth.last_day


def test_cloud_upload(dataset: GeneratedDataset, events: pl.DataFrame) -> None:
    truth = _truth(dataset, "cloud_upload")
    uploads = _user(events, truth.user).filter(pl.col("event_action") == "www_upload")
    assert uploads["url_original"].str.contains("|".join(_CLOUD)).all()
    hours = uploads["timestamp"].dt.hour()
    assert ((hours >= 22) | (hours < 6)).all()
    assert uploads["source_bytes"].sum() >= 500_000_000
    nights = (uploads["timestamp"] - timedelta(hours=12)).dt.date()
    assert nights.min() == truth.first_day and nights.max() == truth.last_day


def test_benign_population_has_realistic_variety(
    dataset: GeneratedDataset, events: pl.DataFrame
) -> None:
    insiders = {item.user for item in dataset.truth}
    assert len(insiders) == len(dataset.truth)
    ldap = read_ldap(dataset.ldap)
    assert set(ldap["user_id"]) == insiders | set(dataset.benign_users)
    benign = events.filter(pl.col("user_name").is_in(pl.Series(dataset.benign_users).implode()))
    logons = benign.filter(pl.col("event_action") == "logon")
    late = logons.filter(pl.col("timestamp").dt.hour() >= 20)["user_name"].n_unique()
    pcs = logons.group_by("user_name").agg(pl.col("host_name").n_unique().alias("pcs"))
    usb = benign.filter(pl.col("message") == "to_removable_media")["user_name"].n_unique()
    jobs = benign.filter(pl.col("url_original").str.contains("indeed|monster|glassdoor|/jobs/"))
    small_uploads = benign.filter(pl.col("event_action") == "www_upload")
    external = benign.filter(~pl.col("email_to").str.contains("dtaa.example"))
    assert late >= 3 and _int(pcs["pcs"].max()) >= 8  # night owls; sysadmins on many PCs
    assert usb >= 4 and jobs["user_name"].n_unique() >= 3
    assert small_uploads.height > 0 and _int(small_uploads["source_bytes"].max()) < 20_000_000
    assert external.height > 0 and _int(external["email_attachments"].max()) >= 1
    assert (ldap["last_month"] == "2026-01").sum() == 2  # the thief and a benign leaver
    assert (ldap["first_month"] == "2026-02").sum() == 1  # a new hire


def test_scenario_subset_and_validation(tmp_path: Path) -> None:
    only = generate_insider_dataset(
        tmp_path / "one", users=20, days=25, scenarios=("night_mass_download",)
    )
    assert [item.user for item in only.truth] == [SCENARIO_3_USER]
    assert SCENARIO_3_USER not in only.benign_users and len(only.benign_users) == 19
    with pytest.raises(ConfigError, match="valid scenarios are"):
        generate_insider_dataset(tmp_path / "x", scenarios=("ransomware",))
    with pytest.raises(ConfigError, match="new calendar month"):
        generate_insider_dataset(tmp_path / "x", days=25, start=date(2026, 1, 1))
    with pytest.raises(ConfigError, match="at least 12"):
        generate_insider_dataset(tmp_path / "x", users=5)
    with pytest.raises(ConfigError, match="at least 21"):
        generate_insider_dataset(tmp_path / "x", days=7)


# --- CERT r4.2 shapes ----------------------------------------------------------------------

SHAPES = {"users": 80, "days": 100, "per_scenario": 2}


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> GeneratedDataset:
    return generate_cert_shapes_dataset(tmp_path_factory.mktemp("shapes") / "cert", 5, **SHAPES)


@pytest.fixture(scope="module")
def shape_events(shapes: GeneratedDataset) -> pl.DataFrame:
    stream = EventStream(cert_inputs(shapes.directory).event_files)
    frame = pl.concat([batch for _, batch in stream])
    assert stream.stats.dead_letters == 0
    return frame


def _insiders(shapes: GeneratedDataset, scenario: str) -> list[InjectedScenario]:
    found = [item for item in shapes.truth if item.scenario == scenario]
    assert len(found) == SHAPES["per_scenario"]
    return found


def test_shapes_are_r42_without_bytes_or_content(
    shapes: GeneratedDataset, shape_events: pl.DataFrame
) -> None:
    for kind, path in shapes.files.items():
        assert path.read_text().splitlines()[0] == R42_HEADERS[kind]
    assert {cert_format(path) for path in shapes.files.values()} == {
        "cert-logon", "cert-device", "cert-file", "cert-http", "cert-email",
    }  # fmt: skip
    assert set(shape_events["event_action"].unique()) == {
        "logon", "logoff", "connect", "disconnect", "file_copy", "www_visit", "send",
    }  # fmt: skip
    not_mail = shape_events.filter(pl.col("event_category") != "email")
    assert not_mail["source_bytes"].null_count() == not_mail.height
    assert not_mail["destination_bytes"].null_count() == not_mail.height
    assert all(line.endswith(",") for line in shapes.files["http"].read_text().splitlines()[1:])


def test_shapes_are_deterministic(tmp_path: Path, shapes: GeneratedDataset) -> None:
    again = generate_cert_shapes_dataset(tmp_path / "again", 5, **SHAPES)
    other = generate_cert_shapes_dataset(tmp_path / "other", 6, **SHAPES)
    assert _files(again.directory) == _files(shapes.directory)
    assert _files(other.directory) != _files(shapes.directory)
    assert len({item.user for item in shapes.truth}) == 6


def _baseline(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("timestamp").dt.date() < date(2026, 1, 31))


def _late_logons(frame: pl.DataFrame) -> pl.DataFrame:
    hour = pl.col("timestamp").dt.hour()
    return frame.filter((pl.col("event_action") == "logon") & ((hour >= 20) | (hour < 7)))


def test_shape_1_first_after_hours_thumb_drive_wikileaks_then_leaves(
    shapes: GeneratedDataset, shape_events: pl.DataFrame
) -> None:
    ldap = read_ldap(shapes.ldap)
    for truth in _insiders(shapes, "cert1_after_hours_leak"):
        mine = _user(shape_events, truth.user)
        before = _baseline(mine)
        assert (
            _late_logons(before).is_empty()
            and before.filter(pl.col("event_category") == "device").is_empty()
        )
        assert _late_logons(mine).height >= 3
        assert mine.filter(pl.col("event_action") == "connect").height >= 2
        assert mine.filter(pl.col("url_original").str.contains("wikileaks.org")).height >= 6
        last = ldap.filter(pl.col("user_id") == truth.user)["last_month"][0]
        assert last < "2026-04" and _int(mine["timestamp"].max().month) <= int(last[-2:])


def test_shape_2_job_sites_then_a_thumb_drive_spike(
    shapes: GeneratedDataset, shape_events: pl.DataFrame
) -> None:
    for truth in _insiders(shapes, "cert2_job_hunt_thumb_drive"):
        mine = _user(shape_events, truth.user)
        connects = (
            mine.filter(pl.col("event_action") == "connect")
            .group_by(pl.col("timestamp").dt.date().alias("day"))
            .len()
        )
        usual = connects.filter(pl.col("day") < truth.first_day)["len"]
        assert usual.len() > 0 and _int(usual.max()) <= 2  # a habit before
        assert (connects["len"] >= 4).sum() >= 8  # markedly higher rates, for days
        jobs = mine.filter(pl.col("url_original").str.contains("jobs|job/|viewjob|job-"))
        assert jobs.height >= 5 and jobs["timestamp"].min().date() >= truth.first_day
        assert mine.filter(pl.col("email_to").str.starts_with("jobs@")).height == 2


def test_shape_3_keylogger_supervisor_pc_mass_mail_as_the_supervisor(
    shapes: GeneratedDataset, shape_events: pl.DataFrame
) -> None:
    ldap = read_ldap(shapes.ldap)
    for truth in _insiders(shapes, "cert3_admin_keylogger_mass_mail"):
        me = ldap.filter(pl.col("user_id") == truth.user).row(0, named=True)
        boss = ldap.filter(pl.col("employee_name") == me["supervisor"]).row(0, named=True)
        mine = _user(shape_events, truth.user)
        assert (
            mine.filter(pl.col("url_original").str.contains("(?i)keylog|keystroke")).height == 2
        )  # search, page
        boss_pc = _user(shape_events, boss["user_id"])["host_name"].mode()[0]
        on_boss = mine.filter(pl.col("host_name") == boss_pc)
        assert on_boss.filter(pl.col("event_action") == "connect").height >= 1
        (sent,) = on_boss.filter(pl.col("event_category") == "email").iter_rows(named=True)
        assert sent["email_from"] == boss["email"] and sent["email_to"].count(",") >= 39
        assert me["role"] == "ITAdmin" and me["last_month"] < "2026-04"
