"""The three CERT r4.2 insider scenarios, injected into an ordinary r4.2-format organisation.

Private to :mod:`siem_consensus.generators.insider`. Each planner picks its insider and days
from the seed; each injector adds the rows and returns the ground-truth sentence.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from ...errors import ConfigError
from ._data import _DAY, _HOUR, _JOBS, _WORDS
from ._org import _Org, _User
from ._r42 import _R42Rows

CERT_SCENARIOS: Final = (
    "cert1_after_hours_leak",
    "cert2_job_hunt_thumb_drive",
    "cert3_admin_keylogger_mass_mail",
)
"""The CERT r4.2 scenario shapes :func:`generate_cert_shapes_dataset` injects."""

_LEAK: Final = (
    "https://wikileaks.org/submit/",
    "https://wikileaks.org/wiki/",
    "http://wikileaks.org/",
)
_MORE_JOBS: Final = (
    "https://www.careerbuilder.com/job/",
    "https://www.simplyhired.com/job/",
    "https://www.craigslist.org/jobs/",
)
_COMPETITORS: Final = ("northwind-aero.com", "contoso-defense.com", "lockheed-example.com")
_KEYLOGGERS: Final = (
    "https://www.spyrix.com/free-keylogger.php",
    "http://www.actualkeylogger.com/download-free-key-logger.html",
    "https://www.refog.com/personal-monitor/keystroke-recorder.html",
    "http://download.cnet.com/Free-Keylogger/3000-2162_4-",
)
_QUIET: Final = frozenset(
    {"usb", "night_owl", "weekend", "traveller", "sysadmin", "late_once", "usb_once",
     "leak_reader", "leaver", "dropbox"}
)  # fmt: skip


@dataclass
class ShapePlan:
    """One insider: scenario, user, active days (indexes), departure and victim."""

    scenario: str
    user: _User
    days: list[int]
    leave: int
    victim: _User | None = None


def _pool(org: _Org, taken: set[str], avoid: frozenset[str], dept: str | None) -> list[_User]:
    return [
        u
        for u in org.users
        if u.uid not in taken and u.role not in ("Manager", "Director") and u.left is None
        and u.joined == 0 and not u.traits & avoid and (dept is None or u.dept == dept)
    ]  # fmt: skip


def _workdays(org: _Org, first: int, last: int) -> list[int]:
    return [d for d in range(first, last + 1) if org.workday(d)]


def _leave_day(org: _Org, rng: random.Random, earliest: int, last_month: int) -> int:
    days = _workdays(org, earliest, last_month - 1)
    if not days:
        raise ConfigError(
            "the period is too short for the CERT shapes (insiders leave 1-2 months after the "
            "baseline and before the last calendar month); give more days"
        )
    return rng.choice(days)


def _plan_leak(org: _Org, rng: random.Random, user: _User, first: int, last: int) -> ShapePlan:
    leave = _leave_day(org, rng, first + 25, last)
    nights = sorted(rng.sample(_workdays(org, leave - 21, leave - 1), rng.randint(3, 6)))
    return ShapePlan(CERT_SCENARIOS[0], user, nights, leave)


def _plan_jobs(org: _Org, rng: random.Random, user: _User, first: int, last: int) -> ShapePlan:
    user.traits.add("usb")  # "markedly higher rates than before": a thumb-drive habit
    leave = _leave_day(org, rng, first + 50, last)
    days = _workdays(org, leave - rng.randint(35, 50), leave)
    return ShapePlan(CERT_SCENARIOS[1], user, days, leave)


def _plan_admin(org: _Org, rng: random.Random, user: _User, first: int, last: int) -> ShapePlan:
    user.traits.add("sysadmin")
    boss = next((u for u in org.users if u.name == user.supervisor and u.uid != user.uid), None)
    if boss is None:
        raise ConfigError("an administrator without a supervisor; raise users=")
    download = _leave_day(org, rng, first + 15, last - 4)
    mail = org.first_workday_from(download + 1)
    leave = org.first_workday_from(mail + rng.randint(0, 3))
    return ShapePlan(CERT_SCENARIOS[2], user, [download, mail], leave, boss)


_PLANNERS: Final[dict[str, tuple[str | None, Callable[..., ShapePlan]]]] = {
    CERT_SCENARIOS[0]: (None, _plan_leak),
    CERT_SCENARIOS[1]: (None, _plan_jobs),
    CERT_SCENARIOS[2]: ("IT", _plan_admin),
}


def plan_shapes(
    org: _Org, rng: random.Random, scenarios: Sequence[str], per_scenario: int, first: int,
    last_month: int,
) -> list[ShapePlan]:  # fmt: skip
    """``per_scenario`` insiders per scenario, each a different user, from the seed."""
    taken: set[str] = set()
    plans = []
    for name in scenarios:
        dept, planner = _PLANNERS[name]
        pool = _pool(org, taken, _QUIET if dept is None else frozenset({"leaver"}), dept)
        if len(pool) < per_scenario:
            raise ConfigError(f"too few eligible users for {per_scenario} x {name}; raise users=")
        for user in rng.sample(pool, per_scenario):
            plan = planner(org, rng, user, first, last_month)
            user.left = plan.leave
            taken.add(user.uid)
            plans.append(plan)
    return plans


def _inject_leak(rows: _R42Rows, rng: random.Random, org: _Org, plan: ShapePlan) -> str:
    user, drives = plan.user, 0
    for n, day in enumerate(plan.days):
        on = day * _DAY + int(rng.uniform(20.5, 23.5) * _HOUR)
        off = on + int(rng.uniform(0.7, 2.5) * _HOUR)
        rows.logon(user, user.pc, on, off)
        sec = on + rng.randint(120, 900)
        if n % 2 == 0 or n == len(plan.days) - 1:
            sec = rows.thumb_drive(sec, user, user.pc, rng.randint(2, 8)) + 60
            drives += 1
        for _ in range(rng.randint(2, 5)):
            sec += rng.randint(30, 300)
            rows.visit(min(sec, off - 30), user, user.pc, rng.choice(_LEAK) + rng.choice(_WORDS))
    return (
        f"first-ever after-hours logons on {len(plan.days)} nights, a first-ever thumb drive "
        f"on {drives} of them and wikileaks.org requests, then departure"
    )


def _inject_jobs(rows: _R42Rows, rng: random.Random, org: _Org, plan: ShapePlan) -> str:
    user, spike = plan.user, plan.days[-rng.randint(8, 12) :]
    for day in plan.days:
        if rng.random() < 0.6:
            for _ in range(rng.randint(2, 6)):
                url = rng.choice(_JOBS + _MORE_JOBS) + str(rng.randint(10**6, 10**7))
                rows.visit(day * _DAY + rng.randint(10 * _HOUR, 16 * _HOUR), user, user.pc, url)
    for day in rng.sample(plan.days[: len(plan.days) // 2], 2):
        to = [f"jobs@{rng.choice(_COMPETITORS)}"]
        rows.send(day * _DAY + 12 * _HOUR, user, user.pc, to, user.email, attachments=1)
    drives = 0
    for day in spike:
        sec = day * _DAY + int(9.5 * _HOUR)
        for _ in range(rng.randint(4, 9)):
            sec = rows.thumb_drive(sec, user, user.pc, rng.randint(3, 10)) + rng.randint(300, 1800)
            drives += 1
    return (
        f"job-site browsing and mails to competitors over {len(plan.days)} days, then "
        f"{drives} thumb-drive sessions on the last {len(spike)} working days, then departure"
    )


def _inject_admin(rows: _R42Rows, rng: random.Random, org: _Org, plan: ShapePlan) -> str:
    admin, boss = plan.user, plan.victim
    assert boss is not None
    download, mail = plan.days
    sec = download * _DAY + rng.randint(10 * _HOUR, 14 * _HOUR)
    rows.visit(sec, admin, admin.pc, "https://www.google.com/search?q=free+keylogger")
    url = rng.choice(_KEYLOGGERS)
    rows.visit(
        sec + 60,
        admin,
        admin.pc,
        url + (str(rng.randint(10**6, 10**7)) if url.endswith("-") else ""),
    )
    sec += rng.randint(2 * _HOUR, 3 * _HOUR)
    rows.logon(admin, boss.pc, sec, sec + 900)
    rows.thumb_drive(sec + 60, admin, boss.pc, 1)
    sec = mail * _DAY + rng.randint(8 * _HOUR, 16 * _HOUR)
    rows.logon(admin, boss.pc, sec, sec + 600)
    everyone = [u.email for u in org.users if u.active(mail) and u is not boss]
    to = rng.sample(everyone, min(len(everyone), rng.randint(40, 120)))
    rows.send(sec + 120, admin, boss.pc, to[:10], boss.email, cc=to[10:20], bcc=to[20:])
    return (
        f"keylogger from {url.split('/')[2]}, a thumb drive on the supervisor's PC {boss.pc}, "
        f"next working day a mail to {len(to)} people from that PC as {boss.email}, then departure"
    )


INJECTORS: Final[dict[str, Callable[[_R42Rows, random.Random, _Org, ShapePlan], str]]] = {
    CERT_SCENARIOS[0]: _inject_leak,
    CERT_SCENARIOS[1]: _inject_jobs,
    CERT_SCENARIOS[2]: _inject_admin,
}
