"""The simulated organisation: users, departments, supervisors, traits and LDAP snapshots.

Private to :mod:`siem_consensus.generators.insider`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Final

from ._data import (
    _DEPARTMENTS,
    _FIRST,
    _HOUR,
    _LAST,
    _TRAITS,
    ORG_DOMAIN,
    SCENARIO_3_USER,
)

_LDAP_HEADER: Final = (
    "employee_name,user_id,email,role,business_unit,functional_unit,department,team,supervisor"
)


@dataclass
class _User:
    uid: str
    name: str
    dept: str
    role: str
    team: str
    pc: str
    supervisor: str = ""
    traits: set[str] = field(default_factory=set)
    pcs: tuple[str, ...] = ()
    start: int = 9 * _HOUR
    joined: int = 0
    left: int | None = None
    oddities: set[int] = field(default_factory=set)

    @property
    def email(self) -> str:
        return f"{self.name.replace(' ', '.')}@{ORG_DOMAIN}"

    def active(self, day: int) -> bool:
        return self.joined <= day and (self.left is None or day <= self.left)


@dataclass
class _Org:
    users: list[_User]
    start: date
    days: int
    months: list[date]

    def user(self, uid: str) -> _User:
        return next(user for user in self.users if user.uid == uid)

    def colleagues(self, user: _User) -> list[_User]:
        return [other for other in self.users if other.dept == user.dept and other is not user]

    def workday(self, day: int) -> bool:
        return (self.start + timedelta(days=day)).weekday() < 5

    def day_of(self, when: date) -> int:
        return (when - self.start).days

    def last_workday_before(self, day: int) -> int:
        day -= 1
        while not self.workday(day):
            day -= 1
        return day

    def first_workday_from(self, day: int) -> int:
        while not self.workday(day):
            day += 1
        return day


def _allocation(total: int) -> dict[str, int]:
    """Department sizes proportional to the weights, at least one each (two for IT)."""
    weights = {name: spec[0] for name, spec in _DEPARTMENTS.items()}
    scale = sum(weights.values())
    counts = {
        name: max(2 if name == "IT" else 1, total * w // scale) for name, w in weights.items()
    }
    counts["Engineering"] += total - sum(counts.values())
    return counts


def _names(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """Unique (CERT-style id, full name) pairs: initials and four digits, ``NGF0157``."""
    found: dict[str, str] = {}
    while len(found) < count:
        first, middle, last = rng.choice(_FIRST), rng.choice(_FIRST), rng.choice(_LAST)
        uid = f"{first[0]}{middle[0]}{last[0]}{rng.randint(0, 9999):04d}"
        name = f"{first} {middle} {last}"
        if uid not in found and name not in found.values():
            found[uid] = name
    return list(found.items())


def _people(rng: random.Random, users: int) -> list[_User]:
    counts = _allocation(users - 1)
    names = iter(_names(rng, users - 1))
    pcs = iter(rng.sample(range(1000, 10000), users))
    people = [
        _User(
            SCENARIO_3_USER,
            "Bob Engineer",
            "Engineering",
            "Senior Engineer",
            "1 - Engineering",
            f"PC-{next(pcs)}",
        )
    ]
    for dept, count in counts.items():
        roles = _DEPARTMENTS[dept][1]
        for n in range(count):
            uid, name = next(names)
            role = "Manager" if n == 0 and dept != "Management" else rng.choice(roles)
            team = f"{1 + n % 3} - {dept}"
            people.append(_User(uid, name, dept, role, team, f"PC-{next(pcs)}"))
    return people


def _supervise(people: list[_User]) -> None:
    top = next(user for user in people if user.dept == "Management")
    managers = {user.dept: user for user in people if user.role == "Manager"}
    for user in people:
        boss = top if user.role == "Manager" else managers.get(user.dept, top)
        user.supervisor = "" if user is top else boss.name


def _assign_traits(rng: random.Random, people: list[_User]) -> None:
    ordinary = [user for user in people if user.uid != SCENARIO_3_USER]
    for trait, (count, depts) in _TRAITS.items():
        pool = [user for user in ordinary if depts is None or user.dept in depts]
        for user in rng.sample(pool, min(count, len(pool))):
            user.traits.add(trait)
    every_pc = [user.pc for user in people]
    for user in people:
        if user.dept == "Sales":
            user.traits.add("customer_db")
        if "traveller" in user.traits:
            user.pcs = (user.pc, *rng.sample(every_pc, 2))
        early = "night_owl" not in user.traits and rng.random() < 0.3
        user.start = int((rng.uniform(7.5, 8.5) if early else rng.uniform(8.75, 9.25)) * _HOUR)
    people[0].start = 9 * _HOUR


def _months(start: date, days: int) -> list[date]:
    last = start + timedelta(days=days - 1)
    months, month = [], start.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _organisation(rng: random.Random, users: int, days: int, start: date) -> _Org:
    people = _people(rng, users)
    _supervise(people)
    _assign_traits(rng, people)
    return _Org(people, start, days, _months(start, days))


# --- LDAP snapshots ------------------------------------------------------------------------


def _ldap_row(user: _User) -> str:
    number = list(_DEPARTMENTS).index(user.dept) + 1
    unit = _DEPARTMENTS[user.dept][3]
    fields = (
        user.name,
        user.uid,
        user.email,
        user.role,
        "1",
        unit,
        f"{number} - {user.dept}",
        user.team,
        user.supervisor,
    )
    return ",".join(fields)


def _write_ldap(directory: Path, org: _Org) -> Path:
    """One snapshot per month: everyone employed at some point of that month."""
    folder = directory / "LDAP"
    folder.mkdir(exist_ok=True)
    for month in org.months:
        first = org.day_of(month)
        last = org.day_of((month + timedelta(days=32)).replace(day=1)) - 1
        staff = [u for u in org.users if u.joined <= last and (u.left is None or u.left >= first)]
        lines = [_LDAP_HEADER, *(_ldap_row(user) for user in sorted(staff, key=lambda u: u.uid))]
        (folder / f"{month:%Y-%m}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder
