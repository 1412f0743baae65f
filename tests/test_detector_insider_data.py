"""Synthetic EVENT_SCHEMA frames for the insider detector tests (no parser involved).

A small company over 45 days from Monday 2026-01-05: office workers with fixed hours, one
PC, a project directory and a few web domains; plus benign oddities (a night owl, a traveller,
an admin touching many PCs, a daily USB user) and injectable scenarios (Scenario 3's night
mass download, a volume ramp, USB theft before leaving, cloud uploads, mailed attachments,
a keylogger).
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl

from siem_consensus.parsers.base import EVENT_SCHEMA

START = date(2026, 1, 5)
DAYS = 45
BASELINE_END = START + timedelta(days=13)  # the default: 30% of 45 days
COMPANY = "dtaa.com"
Row = dict[str, Any]
KB = 1_000
MB = 1_000_000
COMMON_SITES = ("intranet.dtaa.com", "news.example.com", "docs.python.org", "weather.com")

PEOPLE: dict[str, dict[str, Any]] = {
    "bob.engineer": {"dept": "Engineering", "role": "Senior Engineer",
                     "dir": "/shared/engineering/project_docs", "pc": "PC-0001"},
    "alice.dev": {"dept": "Engineering", "role": "Engineer",
                  "dir": "/shared/engineering/project_docs", "pc": "PC-0002"},
    "carol.dev": {"dept": "Engineering", "role": "Engineer",
                  "dir": "/shared/engineering/firmware", "pc": "PC-0003"},
    "dan.sales": {"dept": "Sales", "role": "Account Manager",
                  "dir": "/database/customers", "pc": "PC-0004"},
    "erin.sales": {"dept": "Sales", "role": "Account Manager",
                   "dir": "/shared/sales/contracts", "pc": "PC-0005"},
    "frank.fin": {"dept": "Finance", "role": "Accountant",
                  "dir": "/shared/finance/ledgers", "pc": "PC-0006"},
    "gina.fin": {"dept": "Finance", "role": "Accountant",
                 "dir": "/shared/finance/ledgers", "pc": "PC-0007"},
    "night.owl": {"dept": "Engineering", "role": "Engineer", "hours": (21, 28),
                  "dir": "/shared/engineering/builds", "pc": "PC-0008"},
    "tom.traveller": {"dept": "Sales", "role": "Sales Director",
                      "dir": "/shared/sales/contracts", "pc": "PC-0009"},
    "adam.admin": {"dept": "IT", "role": "IT Admin", "dir": "/shared/it/scripts",
                   "pc": "PC-0010", "admin": True},
    "uma.usb": {"dept": "Finance", "role": "Auditor", "dir": "/shared/finance/audit",
                "pc": "PC-0011", "usb": True},
    "hank.hr": {"dept": "HR", "role": "Recruiter", "dir": "/shared/hr/people",
                "pc": "PC-0012"},
}  # fmt: skip


def at(day: date, hour: float) -> datetime:
    """UTC timestamp ``hour`` hours after midnight of ``day`` (may run past midnight)."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hour)


def ev(user: str, when: datetime, category: str, action: str, **extra: Any) -> Row:
    """One event row of ``user``."""
    host = PEOPLE.get(user, {}).get("pc", "PC-9999")
    row: Row = {"timestamp": when, "user_name": user, "event_category": category,
                "event_action": action, "host_name": host}  # fmt: skip
    row.update(extra)
    return row


def frame(rows: Iterable[Row], source: str = "insider.log") -> pl.DataFrame:
    """Rows sorted by time and numbered 1.. like one parsed file."""
    ordered = sorted(rows, key=lambda r: (r["timestamp"] or datetime.min.replace(tzinfo=UTC),
                                          r["user_name"] or ""))  # fmt: skip
    for number, row in enumerate(ordered, start=1):
        row["line"] = number
    columns = {name: [r.get(name) for r in ordered] for name in EVENT_SCHEMA}
    return pl.DataFrame(columns, schema=EVENT_SCHEMA).with_columns(pl.lit(source).alias("source"))


def workday(user: str, day: date, rng: random.Random, **override: Any) -> list[Row]:
    """An ordinary day: logon, ~5 MB of file opens, some browsing and internal mail."""
    person = {**PEOPLE[user], **override}
    begin, end = person.get("hours", (9, 17))
    pc = person["pc"]
    span = end - begin
    rows = [ev(user, at(day, begin + rng.random() * 0.2), "logon", "Logon", host_name=pc)]
    for k in range(rng.randint(8, 14)):
        rows.append(ev(user, at(day, begin + rng.random() * span), "file", "File Open",
                       host_name=pc, file_path=f"{person['dir']}/doc_{rng.randint(1, 40)}.docx",
                       destination_bytes=rng.randint(300, 600) * KB))  # fmt: skip
        del k
    sites = (*COMMON_SITES, f"{person['dept'].lower()}.dtaa.com")
    for _ in range(rng.randint(8, 16)):
        rows.append(ev(user, at(day, begin + rng.random() * span), "web", "WWW Visit",
                       host_name=pc, url_original=f"http://{rng.choice(sites)}/page",
                       destination_bytes=20 * KB))  # fmt: skip
    for _ in range(rng.randint(1, 3)):
        peer = rng.choice([p for p in PEOPLE if p != user])
        rows.append(ev(user, at(day, begin + rng.random() * span), "email", "Send",
                       host_name=pc, email_from=f"{user}@{COMPANY}",
                       email_to=f"{peer}@{COMPANY}", email_attachments=rng.choice((0, 0, 1)),
                       source_bytes=30 * KB))  # fmt: skip
    rows += _habits(user, person, day, rng)
    rows.append(ev(user, at(day, end - rng.random() * 0.2), "logon", "Logoff", host_name=pc))
    return rows


def _habits(user: str, person: dict[str, Any], day: date, rng: random.Random) -> list[Row]:
    rows: list[Row] = []
    begin = person.get("hours", (9, 17))[0]
    if person.get("usb"):
        for _ in range(rng.randint(1, 3)):
            rows.append(ev(user, at(day, begin + 1 + rng.random() * 6), "device", "Connect"))
    if person.get("admin"):
        for n in rng.sample(range(1, 60), 12):
            host = f"PC-{n:04d}"
            when = at(day, begin + rng.random() * 8)
            rows.append(ev(user, when, "logon", "Logon", host_name=host))
    return rows


def workdays(first: date = START, last: date | None = None) -> list[date]:
    """Weekdays from ``first`` up to and excluding ``last`` (the end of the data)."""
    stop = last or START + timedelta(days=DAYS)
    return [first + timedelta(days=k) for k in range((stop - first).days)
            if (first + timedelta(days=k)).weekday() < 5]  # fmt: skip


def company(seed: int = 7, users: Iterable[str] | None = None) -> list[Row]:
    """Every user's ordinary days over the whole period, with the benign oddities."""
    rng = random.Random(seed)
    rows: list[Row] = []
    for user in users or PEOPLE:
        for day in workdays():
            rows += _benign_day(user, day, rng)
    return rows


def _benign_day(user: str, day: date, rng: random.Random) -> list[Row]:
    trip = BASELINE_END + timedelta(days=3) <= day <= BASELINE_END + timedelta(days=6)
    if user == "tom.traveller" and trip:
        return workday(user, day, rng, pc="LAPTOP-SGP-77", hours=(1, 9))
    if user == "hank.hr" and rng.random() < 0.5:
        rows = workday(user, day, rng)
        rows.append(
            ev(user, at(day, 11), "web", "WWW Visit", url_original="https://www.linkedin.com/jobs")
        )
        return rows
    return workday(user, day, rng)


def scenario_3(day: date = BASELINE_END + timedelta(days=8)) -> list[Row]:
    """Bob's night: 150 downloads of customer files, 3,800 MB, 02:00-05:00."""
    size = 3_800 * MB // 150
    return [
        ev("bob.engineer", at(day, 2 + 3 * k / 150), "file", "File Download",
           file_path=f"/database/customers/customer_{k:03d}.csv", destination_bytes=size)
        for k in range(150)
    ]  # fmt: skip


def detection_days(count: int, first: int = 1) -> list[date]:
    """``count`` weekdays of the detection period from its ``first``-th weekday (1-based)."""
    return workdays(BASELINE_END)[first - 1 : first - 1 + count]


def ramp(user: str = "carol.dev", days: int = 10) -> list[Row]:
    """Volume doubling every day for ``days`` workdays, late in the evening, own directory."""
    rows = []
    for k, day in enumerate(detection_days(days)):
        volume = 5 * MB * 2 ** (k + 1)
        rows += [
            ev(user, at(day, 21 + j / 10), "file", "file_download",
               file_path=f"{PEOPLE[user]['dir']}/image_{k}_{j}.bin", destination_bytes=volume // 10)
            for j in range(10)
        ]  # fmt: skip
    return rows


def usb_theft(user: str = "erin.sales") -> list[Row]:
    """Job-site visits, then two days of copying contracts to a first-ever USB drive."""
    rows = [
        ev(user, at(day, 12.5), "web", "www_visit", url_original="https://www.indeed.com/q=sales")
        for day in detection_days(4)
    ]
    for day in detection_days(2, first=5):
        rows.append(ev(user, at(day, 10), "device", "connect"))
        rows += [
            ev(user, at(day, 10.1 + j / 200), "file", "file_copy", message="to_removable_media",
               file_path=f"/shared/sales/contracts/contract_{j}.pdf", destination_bytes=5 * MB)
            for j in range(60)
        ]  # fmt: skip
    return rows


def cloud_upload(user: str = "frank.fin") -> list[Row]:
    """Twenty ledger uploads to a cloud drive in the evening, never done before."""
    day = detection_days(1, first=3)[0]
    return [
        ev(user, at(day, 19.5 + j / 60), "web", "www_upload", http_method="POST",
           url_original="https://www.dropbox.com/upload", source_bytes=10 * MB)
        for j in range(20)
    ]  # fmt: skip


def mailed_attachments(user: str = "gina.fin") -> list[Row]:
    """Eight large attachments mailed to the user's own free-mail address."""
    day = detection_days(1, first=4)[0]
    return [
        ev(user, at(day, 16 + j / 10), "email", "send", email_from=f"{user}@{COMPANY}",
           email_to="gina.private@gmail.com", email_attachments=2, source_bytes=10 * MB)
        for j in range(8)
    ]  # fmt: skip


def keylogger(user: str = "adam.admin") -> list[Row]:
    """A keylogger download, then a first-ever USB drive on Bob's PC."""
    day = detection_days(1, first=6)[0]
    return [
        ev(user, at(day, 10), "web", "www_download",
           url_original="http://keylogger-download.example/files/keylogger_setup.exe",
           destination_bytes=2 * MB),
        ev(user, at(day, 10.5), "logon", "logon", host_name="PC-0001"),
        ev(user, at(day, 10.6), "device", "connect", host_name="PC-0001"),
    ]  # fmt: skip


def directory(left: Iterable[str] = ()) -> pl.DataFrame:
    """The LDAP frame of :data:`PEOPLE`; users in ``left`` left in February 2026."""
    return pl.DataFrame(
        {
            "user_id": list(PEOPLE),
            "employee_name": [u.replace(".", " ").title() for u in PEOPLE],
            "email": [f"{u}@{COMPANY}" for u in PEOPLE],
            "role": [p["role"] for p in PEOPLE.values()],
            "department": [p["dept"] for p in PEOPLE.values()],
            "first_month": ["2025-12"] * len(PEOPLE),
            "last_month": ["2026-02" if u in set(left) else "2026-03" for u in PEOPLE],
        }
    )


def test_company_is_plain_weekday_activity() -> None:
    rows = company(users=["bob.engineer"])
    days = {r["timestamp"].date() for r in rows}
    assert all(d.weekday() < 5 for d in days)
    assert len(days) == len(workdays())
