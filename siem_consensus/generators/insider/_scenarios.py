"""The injected insider scenarios: who acts and when (plans), and the rows each one adds.

Private to :mod:`siem_consensus.generators.insider`. Each injector returns the one-sentence
description that goes into the ground truth.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from ...errors import ConfigError
from ._activity import _doc, _Rows, _split_total
from ._data import (
    _CLOUD,
    _COMPETITORS,
    _DAY,
    _HOUR,
    _JOBS,
    _KEYLOGGER_EXE,
    _KEYLOGGER_PATH,
    _KEYLOGGER_SITE,
    _PERSONAL,
    BASELINE_DAILY_BYTES,
    NIGHT_BYTES,
    NIGHT_DOWNLOADS,
    SCENARIO_3_USER,
)
from ._org import _Org, _User

# --- scenarios -----------------------------------------------------------------------------


@dataclass
class _Plan:
    """Who acts in a scenario and when (day indexes from the start)."""

    scenario: str
    user: _User
    first: int
    last: int
    days: list[int] = field(default_factory=list)
    victims: list[_User] = field(default_factory=list)


def _pick(
    rng: random.Random,
    org: _Org,
    taken: set[str],
    avoid: Sequence[str] = (),
    depts: Sequence[str] | None = None,
) -> _User:
    pool = [  # managers stay: they are the supervisors in the LDAP snapshots
        user
        for user in org.users
        if user.uid not in taken
        and user.role not in ("Manager", "Director")
        and user.left is None
        and user.joined == 0
        and not user.traits.intersection(avoid)
        and (depts is None or user.dept in depts)
    ]
    if not pool:
        raise ConfigError("too few users for the requested scenarios; raise users=")
    return rng.choice(pool)


def _resignation(org: _Org) -> int | None:
    """Last working day before the final month, if it leaves three weeks of history."""
    if len(org.months) < 2:
        return None
    day = org.last_workday_before(org.day_of(org.months[-1]))
    return day if day >= 21 else None


def _plan_theft(org: _Org, rng: random.Random, taken: set[str]) -> _Plan:
    resign = _resignation(org)
    if resign is None:
        raise ConfigError(
            "theft_before_resignation needs the period to reach a new calendar month at least "
            f"three weeks after the start (start={org.start}, days={org.days}); give more days "
            "or leave the scenario out"
        )
    depts = ("Engineering", "Research", "Sales", "Finance")
    user = _pick(rng, org, taken, avoid=("usb", "traveller", "sysadmin"), depts=depts)
    user.left = resign
    copy_days, wanted = [resign], rng.randint(2, 3)
    while len(copy_days) < wanted:
        copy_days.insert(0, org.last_workday_before(copy_days[0]))
    return _Plan("theft_before_resignation", user, resign - rng.randint(21, 26), resign, copy_days)


def _plan_night(org: _Org, rng: random.Random, taken: set[str]) -> _Plan:
    del taken
    day = rng.randint(min(30, org.days - 3), org.days - 2)
    return _Plan("night_mass_download", org.user(SCENARIO_3_USER), day, day, [day])


def _plan_keylogger(org: _Org, rng: random.Random, taken: set[str]) -> _Plan:
    admin = _pick(rng, org, taken, depts=("IT",))
    admin.traits.add("sysadmin")
    boss = next((user for user in org.users if user.name == admin.supervisor), None)
    others = [user for user in org.users if user.uid not in taken and user is not admin]
    victims = rng.sample(others, rng.randint(1, 2))
    if boss is not None and boss not in victims:
        victims.insert(0, boss)
    final = org.last_workday_before(org.days)
    download = org.first_workday_from(rng.randint(org.days * 3 // 10, org.days * 9 // 20))
    install = org.first_workday_from(download + 1)
    collect = min(org.first_workday_from(install + rng.randint(2, 5)), final)
    plan_days = [download, install, max(install, collect)]
    return _Plan("admin_keylogger", admin, download, plan_days[-1], plan_days, victims)


def _plan_cloud(org: _Org, rng: random.Random, taken: set[str]) -> _Plan:
    user = _pick(rng, org, taken, avoid=("sysadmin", "dropbox"))
    workdays = [day for day in range(org.days // 2, org.days - 1) if org.workday(day)]
    nights = sorted(rng.sample(workdays, min(len(workdays), rng.randint(2, 4))))
    return _Plan("cloud_upload", user, nights[0], nights[-1], nights)


def _churn(org: _Org, rng: random.Random, taken: set[str]) -> None:
    """A benign leaver (who browsed job sites, and copied nothing) and a new hire."""
    resign = _resignation(org)
    if resign is None:
        return
    leaver = _pick(rng, org, taken, avoid=("sysadmin",))
    leaver.left, leaver.traits = resign, leaver.traits | {"job_seeker"}
    taken.add(leaver.uid)
    hire = _pick(rng, org, taken, avoid=("sysadmin",))
    hire.joined = org.first_workday_from(org.day_of(org.months[-1]))


_PLANNERS: Final[dict[str, Callable[[_Org, random.Random, set[str]], _Plan]]] = {
    "theft_before_resignation": _plan_theft,
    "night_mass_download": _plan_night,
    "admin_keylogger": _plan_keylogger,
    "cloud_upload": _plan_cloud,
}


def _plan(org: _Org, rng: random.Random, scenarios: Sequence[str]) -> list[_Plan]:
    taken = {SCENARIO_3_USER}
    plans = []
    for name in scenarios:
        plan = _PLANNERS[name](org, rng, taken)
        taken.add(plan.user.uid)
        taken.update(victim.uid for victim in plan.victims)
        plans.append(plan)
    _churn(org, rng, taken)
    return plans


def _inject_theft(rows: _Rows, rng: random.Random, org: _Org, plan: _Plan) -> str:
    user = plan.user
    for day in range(plan.first, plan.last + 1):
        for _ in range(rng.randint(2, 8) if org.workday(day) else 0):
            url = rng.choice(_JOBS + _COMPETITORS) + str(rng.randint(10**6, 10**7))
            sec = day * _DAY + rng.randint(10 * _HOUR, 16 * _HOUR)
            rows.web(sec, user, user.pc, url, "WWW Visit", rng.randint(50_000, 400_000))
    copied = 0
    for day in plan.days:
        sec = day * _DAY + rng.randint(12 * _HOUR, 13 * _HOUR)
        rows.add("device", sec, user, user.pc, "Connect")
        for _ in range(rng.randint(40, 90)):
            sec += rng.randint(5, 25)
            size = int(rng.lognormvariate(12.5, 1.0))
            rows.file(sec, user, user.pc, _doc(rng, user), "File Copy", size, True)
            copied += 1
        rows.add("device", sec + rng.randint(30, 300), user, user.pc, "Disconnect")
    return (
        "weeks of job-site and competitor browsing, then first-ever USB use and "
        f"{copied} file copies to removable media, then resignation (absent from the next "
        "LDAP snapshot)"
    )


def _inject_night(rows: _Rows, rng: random.Random, org: _Org, plan: _Plan) -> str:
    bob, start = plan.user, plan.first * _DAY + 2 * _HOUR
    offsets = [
        rng.randint(0, 59),
        *sorted(rng.randrange(60, 3 * _HOUR) for _ in range(NIGHT_DOWNLOADS - 1)),
    ]
    numbers = rng.sample(range(1, 10_000), NIGHT_DOWNLOADS)
    sizes = _split_total(rng, NIGHT_BYTES, NIGHT_DOWNLOADS)
    rows.logon(bob, bob.pc, start - rng.randint(120, 600), start + offsets[-1] + 300)
    for offset, number, size in zip(offsets, numbers, sizes, strict=True):
        path = f"/database/customers/customer_{number:04d}.csv"
        rows.file(start + offset, bob, bob.pc, path, "File Download", size)
    return (
        f"{NIGHT_DOWNLOADS} downloads of /database/customers/customer_*.csv from 02:00, "
        f"{NIGHT_BYTES // 1_000_000:,} MB in 3 hours (baseline about "
        f"{BASELINE_DAILY_BYTES // 1_000_000} MB a day on /shared/engineering/project_docs)"
    )


def _inject_keylogger(rows: _Rows, rng: random.Random, org: _Org, plan: _Plan) -> str:
    admin, (download, install, collect) = plan.user, plan.days
    sec = download * _DAY + rng.randint(19 * _HOUR, 20 * _HOUR)
    rows.logon(admin, admin.pc, sec - 300, sec + 1800)
    rows.web(sec, admin, admin.pc, _KEYLOGGER_SITE, "WWW Visit", 180_000)
    rows.web(sec + 90, admin, admin.pc, _KEYLOGGER_SITE + _KEYLOGGER_EXE, "WWW Download", 2_316_288)
    rows.add("device", sec + 300, admin, admin.pc, "Connect")
    local = f"C:\\Users\\{admin.uid}\\Downloads\\{_KEYLOGGER_EXE}"
    rows.file(sec + 360, admin, admin.pc, local, "File Copy", 2_316_288, True)
    rows.add("device", sec + 420, admin, admin.pc, "Disconnect")
    captured = []
    for day, step in ((install, "install"), (collect, "collect")):
        sec = day * _DAY + rng.randint(7 * _HOUR, 7 * _HOUR + 1200)
        for victim in plan.victims:
            rows.logon(admin, victim.pc, sec, sec + rng.randint(240, 600))
            if step == "install":
                path = _KEYLOGGER_PATH + "winsvc.exe"
                rows.file(sec + 60, admin, victim.pc, path, "File Write", 2_316_288, False, True)
            else:
                size = rng.randint(200_000, 2_000_000)
                rows.file(
                    sec + 60, admin, victim.pc, _KEYLOGGER_PATH + "keys.log", "File Copy", size
                )
                captured.append((f"keys_{victim.pc}.log", size))
            sec += 900
    home = f"{admin.name.split()[0].lower()}.{admin.name.split()[-1].lower()}@{_PERSONAL[0]}"
    rows.mail(sec + 600, admin, admin.pc, [home], [], captured)
    return (
        f"keylogger downloaded from {_KEYLOGGER_SITE}, copied to USB, installed on "
        f"{len(plan.victims)} colleagues' PCs (incl. the supervisor's), captured keystrokes "
        f"mailed to {home}"
    )


def _inject_cloud(rows: _Rows, rng: random.Random, org: _Org, plan: _Plan) -> str:
    user, total = plan.user, 0
    for day in plan.days:
        sec = day * _DAY + rng.randint(22 * _HOUR, 23 * _HOUR + 1800)
        start = sec
        for _ in range(rng.randint(3, 8)):
            index = rng.randrange(len(_CLOUD))
            visit, upload = _CLOUD[index]
            size = rng.randint(20_000, 500_000) if index == 3 else rng.randint(50, 600) * 10**6
            rows.web(sec, user, user.pc, visit, "WWW Visit", rng.randint(80_000, 300_000))
            rows.web(sec + 45, user, user.pc, upload, "WWW Upload", size)
            sec += rng.randint(180, 900)
            total += size
        rows.logon(user, user.pc, start - rng.randint(60, 300), sec + 300)
    return (
        f"off-hours uploads to dropbox, wetransfer, mega and pastebin on {len(plan.days)} "
        f"nights, {total // 1_000_000:,} MB in all"
    )


_INJECTORS: Final[dict[str, Callable[[_Rows, random.Random, _Org, _Plan], str]]] = {
    "theft_before_resignation": _inject_theft,
    "night_mass_download": _inject_night,
    "admin_keylogger": _inject_keylogger,
    "cloud_upload": _inject_cloud,
}
