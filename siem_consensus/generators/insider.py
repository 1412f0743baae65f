"""Seeded CERT-format insider-threat data: an ordinary organisation plus injected scenarios.

:func:`generate_insider_dataset` writes ``logon.csv``, ``device.csv``, ``file.csv``,
``http.csv``, ``email.csv`` and ``LDAP/YYYY-MM.csv`` monthly snapshots in the CERT
insider-threat format (r6.2 columns for file, http and email, plus the project's ``bytes``
volume column), and returns the ground truth. The model (benign variety, what each scenario
injects) is documented in ``docs/insider-data.md``.

Output is deterministic for a seed: all randomness comes from ``random.Random(seed)`` and the
calendar from ``start`` (default :data:`DEFAULT_START`), never from the wall clock.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Final

from pydantic import BaseModel, ConfigDict, Field

from ..errors import ConfigError

__all__ = [
    "BASELINE_DAILY_BYTES",
    "DEFAULT_START",
    "HEADERS",
    "NIGHT_BYTES",
    "NIGHT_DOWNLOADS",
    "ORG_DOMAIN",
    "SCENARIOS",
    "SCENARIO_3_USER",
    "GeneratedDataset",
    "InjectedScenario",
    "generate_insider_dataset",
]

SCENARIOS: Final = (
    "theft_before_resignation",
    "night_mass_download",
    "admin_keylogger",
    "cloud_upload",
)
"""Scenarios :func:`generate_insider_dataset` can inject (all by default)."""

DEFAULT_START: Final = date(2026, 1, 1)
"""First day of the generated period (reproducibility first)."""

ORG_DOMAIN: Final = "dtaa.example"
"""E-mail domain of the simulated organisation (CERT's is ``dtaa.com``)."""

SCENARIO_3_USER: Final = "bob.engineer"
NIGHT_DOWNLOADS: Final = 150
NIGHT_BYTES: Final = 3_800_000_000
"""Scenario 3: 150 downloads, 3,800 MB (decimal megabytes) between 02:00 and 05:00."""

BASELINE_DAILY_BYTES: Final = 5_000_000
"""Scenario 3: bob.engineer's ordinary file volume per working day (about 5 MB)."""

HEADERS: Final = {
    "logon": "id,date,user,pc,activity",
    "device": "id,date,user,pc,activity",
    "file": "id,date,user,pc,filename,activity,to_removable_media,from_removable_media,bytes,"
    "content",
    "http": "id,date,user,pc,url,activity,bytes,content",
    "email": "id,date,user,pc,to,cc,bcc,from,activity,size,attachments,content",
}
"""Header row of each generated event file."""

_LDAP_HEADER: Final = (
    "employee_name,user_id,email,role,business_unit,functional_unit,department,team,supervisor"
)
_HOUR: Final = 3600
_DAY: Final = 86400


class InjectedScenario(BaseModel):
    """Ground truth of one injected scenario."""

    model_config = ConfigDict(frozen=True)

    user: str = Field(description="User id of the insider.")
    scenario: str = Field(description="One of SCENARIOS.")
    first_day: date = Field(description="First day with scenario activity.")
    last_day: date = Field(description="Last day with scenario activity.")
    description: str = Field(description="What was injected, in one sentence.")


class GeneratedDataset(BaseModel):
    """What :func:`generate_insider_dataset` wrote, with the ground truth."""

    model_config = ConfigDict(frozen=True)

    directory: Path = Field(description="The output directory (give it to cert_inputs).")
    files: dict[str, Path] = Field(description="Event file per kind (logon, device, ...).")
    ldap: Path = Field(description="The LDAP snapshot directory.")
    rows: dict[str, int] = Field(description="Data rows written per kind (headers excluded).")
    truth: list[InjectedScenario] = Field(description="The injected scenarios.")
    benign_users: list[str] = Field(description="Every other user id, sorted.")
    seed: int = Field(description="The seed that reproduces these files.")


# --- the organisation ----------------------------------------------------------------------

# fmt: off
_DEPARTMENTS: Final = {  # name: (weight, roles, shared project folders, functional unit)
    "Engineering": (14, ("Engineer", "Senior Engineer"), ("project_docs", "firmware", "test_rigs"),
                    "5 - ResearchAndEngineering"),
    "Research": (8, ("Scientist",), ("studies", "datasets"), "5 - ResearchAndEngineering"),
    "Sales": (10, ("Salesman",), ("proposals", "accounts"), "3 - SalesAndMarketing"),
    "Finance": (6, ("Accountant",), ("ledgers", "budgets"), "4 - Finance"),
    "HR": (4, ("HR Specialist",), ("policies", "reviews"), "6 - HumanResources"),
    "IT": (5, ("ITAdmin",), ("runbooks", "inventory"), "2 - Administration"),
    "Management": (3, ("Director",), ("board", "planning"), "1 - Administration"),
}
_FIRST: Final = (
    "Nola", "Lucian", "Irene", "Moses", "Dean", "Lynn", "Wade", "Quinn", "Beck", "Kasimir",
    "Ginger", "Sawyer", "Leo", "Calvin", "Ada", "Hedy", "Omar", "Ruth", "Tanek", "Lee", "Maya",
    "Ivan", "Zora", "Felix", "Greta", "Hugo", "Iris", "Jonah", "Keira", "Milo", "Nadia",
    "Oscar", "Petra", "Rafe", "Selma", "Tobias", "Una", "Victor", "Willa", "Yusuf",
)
_LAST: Final = (
    "Fuller", "Rojas", "Mayo", "Hahn", "Hines", "Pratt", "Heath", "Colon", "Valdez", "Ross",
    "Hudson", "Ware", "Riggs", "Rios", "Lovelace", "Lamarr", "Byrne", "Chen", "Diaz", "Ellis",
    "Frost", "Garner", "Holt", "Ingram", "Joyce", "Keller", "Lund", "Marsh", "Nash", "Orr",
    "Pace", "Quade", "Reyes", "Stone", "Tate", "Upton", "Vance", "Webb", "Young", "Zeller",
)
_WORDS: Final = (
    "quarterly", "review", "design", "draft", "budget", "meeting", "schedule", "proposal",
    "customer", "project", "report", "update", "deadline", "status", "release", "test",
    "results", "analysis", "contract", "invoice", "plan", "summary", "notes", "roadmap",
    "hiring", "feedback", "training", "vendor", "estimate", "risk",
)
# fmt: on
_NEWS: Final = (
    "https://www.bbc.co.uk/news/",
    "https://www.reuters.com/world/",
    "https://www.nytimes.com/section/",
    "https://news.ycombinator.com/item?id=",
    "https://www.theguardian.com/",
)
_SOCIAL: Final = (
    "https://www.youtube.com/watch?v=",
    "https://www.amazon.com/dp/",
    "https://www.wikipedia.org/wiki/",
    "https://www.linkedin.com/feed/update/",
)
_JOBS: Final = (
    "https://www.linkedin.com/jobs/view/",
    "https://www.indeed.com/viewjob?jk=",
    "https://www.monster.com/job-openings/",
    "https://www.glassdoor.com/job-listing/",
)
_COMPETITORS: Final = (
    "https://careers.northwind-aero.com/apply/",
    "https://jobs.contoso-defense.com/position/",
)
_PARTNERS: Final = ("northwind-supply.com", "fabrikam-logistics.com", "tailspin-univ.edu")
_PERSONAL: Final = ("gmail.com", "yahoo.com", "outlook.com", "protonmail.com")
_CLOUD: Final = (
    ("https://www.dropbox.com/home", "https://content.dropboxapi.com/2/files/upload"),
    ("https://wetransfer.com/", "https://wetransfer.com/api/v4/transfers/upload"),
    ("https://mega.nz/fm", "https://mega.nz/upload"),
    ("https://pastebin.com/", "https://pastebin.com/api/api_post.php"),
)
_ADMIN_TOOLS: Final = (
    "C:\\Tools\\Sysinternals\\PsExec.exe",
    "C:\\Tools\\Sysinternals\\procmon.exe",
    "C:\\Windows\\System32\\mmc.exe",
    "C:\\Tools\\putty.exe",
)
_KEYLOGGER_SITE: Final = "http://free-spy-tools.download/keyloggers/"
_KEYLOGGER_EXE: Final = "kl_setup.exe"
_KEYLOGGER_PATH: Final = "C:\\ProgramData\\WinSvc\\"


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


_TRAITS: Final = {  # trait: (how many users, eligible departments or None for any)
    "sysadmin": (4, ("IT",)),
    "night_owl": (4, None),
    "traveller": (4, ("Sales", "Management", "Research")),
    "usb": (5, None),
    "weekend": (3, None),
    "job_seeker": (3, None),
    "dropbox": (2, None),
    "personal_mail": (2, None),
}


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


# --- rows ----------------------------------------------------------------------------------


class _Rows:
    """CSV rows per file, kept with their time so each file is written in time order."""

    def __init__(self, rng: random.Random, start: date, days: int) -> None:
        self.rng = rng
        self.dates = [(start + timedelta(days=d)).strftime("%m/%d/%Y") for d in range(days + 2)]
        self.rows: dict[str, list[tuple[int, int, str]]] = {kind: [] for kind in HEADERS}
        self.content = [" ".join(rng.sample(_WORDS, rng.randint(3, 9))) for _ in range(200)]
        self.content += [text.replace(" ", ", ", 1) for text in self.content[:20]]

    def add(self, kind: str, sec: int, user: _User, pc: str, *fields: str) -> None:
        """Append one row: a CERT-style id, the date, user, pc, then ``fields``."""
        mark = f"{self.rng.getrandbits(80):020X}"
        day, rest = divmod(sec, _DAY)
        stamp = f"{self.dates[day]} {rest // _HOUR:02d}:{rest % _HOUR // 60:02d}:{rest % 60:02d}"
        cert_id = f"{{{mark[:4]}-{mark[4:12]}-{mark[12:]}}}"
        line = ",".join((cert_id, stamp, user.uid, pc, *fields))
        self.rows[kind].append((sec, len(self.rows[kind]), line))

    def text(self) -> str:
        return self.rng.choice(self.content)

    def logon(self, user: _User, pc: str, on: int, off: int) -> None:
        self.add("logon", on, user, pc, "Logon")
        self.add("logon", off, user, pc, "Logoff")

    def file(
        self,
        sec: int,
        user: _User,
        pc: str,
        path: str,
        action: str,
        size: int,
        to_usb: bool = False,
        from_usb: bool = False,
    ) -> None:
        flags = (str(to_usb), str(from_usb))
        self.add("file", sec, user, pc, path, action, *flags, str(size), self.text())

    def web(self, sec: int, user: _User, pc: str, url: str, action: str, size: int) -> None:
        self.add("http", sec, user, pc, url, action, str(size), self.text())

    def mail(
        self,
        sec: int,
        user: _User,
        pc: str,
        to: Sequence[str],
        cc: Sequence[str],
        attachments: Sequence[tuple[str, int]],
    ) -> None:
        listed = ";".join(f"{name}({size})" for name, size in attachments)
        size = self.rng.randint(3_000, 60_000) + sum(size for _, size in attachments)
        fields = (";".join(to), ";".join(cc), "", user.email, "Send", str(size), listed)
        self.add("email", sec, user, pc, *fields, self.text())

    def write(self, directory: Path) -> tuple[dict[str, Path], dict[str, int]]:
        paths, counts = {}, {}
        for kind, rows in self.rows.items():
            rows.sort()
            paths[kind] = directory / f"{kind}.csv"
            body = "".join(line + "\n" for _, _, line in rows)
            paths[kind].write_text(HEADERS[kind] + "\n" + body, encoding="utf-8")
            counts[kind] = len(rows)
        return paths, counts


def _split_total(rng: random.Random, total: int, parts: int) -> list[int]:
    """``parts`` positive sizes that add up to exactly ``total``."""
    weights = [rng.uniform(0.5, 1.5) for _ in range(parts)]
    scale = total / sum(weights)
    sizes = [max(1, int(w * scale)) for w in weights]
    sizes[-1] += total - sum(sizes)
    return sizes


def _doc(rng: random.Random, user: _User) -> str:
    project = rng.choice(_DEPARTMENTS[user.dept][2])
    ext = rng.choice(("docx", "xlsx", "pdf", "pptx", "txt"))
    return f"/shared/{user.dept.lower()}/{project}/{rng.choice(_WORDS)}_{rng.randint(1, 400)}.{ext}"


# --- ordinary days -------------------------------------------------------------------------


def _sessions(rng: random.Random, org: _Org, user: _User, day: int) -> list[tuple[str, int, int]]:
    """(pc, logon, logoff) of one user's day: office hours, late work, weekends."""
    base = day * _DAY
    pc = rng.choice(user.pcs) if user.pcs else user.pc
    if not org.workday(day):
        if "weekend" in user.traits and rng.random() < 0.4:
            on = base + int(rng.uniform(10, 13) * _HOUR)
            return [(pc, on, on + int(rng.uniform(1, 3) * _HOUR))]
        return []
    on = base + user.start + int(rng.gauss(0, 900))
    off = base + int((17 + rng.gauss(0, 0.4)) * _HOUR) + (user.start - 9 * _HOUR)
    sessions = [(pc, on, max(off, on + 4 * _HOUR))]
    if "night_owl" in user.traits and rng.random() < 0.35:
        late = base + int(rng.uniform(20, 21.5) * _HOUR)
        sessions.append((pc, late, late + int(rng.uniform(1, 3) * _HOUR)))
    return sessions


def _browse(rows: _Rows, rng: random.Random, user: _User, pc: str, span: tuple[int, int]) -> None:
    on, off = span
    for _ in range(max(1, (off - on) * rng.randint(3, 6) // _HOUR)):
        sec, pick = rng.randint(on, off), rng.random()
        if pick < 0.45:
            url = f"https://intranet.{ORG_DOMAIN}/{user.dept.lower()}/{rng.choice(_WORDS)}"
        elif pick < 0.7:
            url = rng.choice(_NEWS) + str(rng.randint(10_000, 99_999))
        elif pick < 0.85:
            url = f"https://www.google.com/search?q={rng.choice(_WORDS)}+{rng.choice(_WORDS)}"
        else:
            url = rng.choice(_SOCIAL) + f"{rng.getrandbits(32):x}"
        if rng.random() < 0.03:
            rows.web(sec, user, pc, url + ".pdf", "WWW Download", rng.randint(200_000, 9_000_000))
        else:
            rows.web(sec, user, pc, url, "WWW Visit", rng.randint(15_000, 900_000))
    if "job_seeker" in user.traits and rng.random() < 0.3:
        for _ in range(rng.randint(1, 4)):
            url = rng.choice(_JOBS) + str(rng.randint(10**6, 10**7))
            rows.web(rng.randint(on, off), user, pc, url, "WWW Visit", rng.randint(50_000, 400_000))


def _work_files(
    rows: _Rows, rng: random.Random, user: _User, pc: str, span: tuple[int, int]
) -> None:
    on, off = span
    if user.uid == SCENARIO_3_USER:
        _bob_files(rows, rng, user, pc, span)
        return
    for _ in range(max(1, (off - on) * rng.randint(1, 3) // _HOUR)):
        action = rng.choices(
            ("File Open", "File Write", "File Copy", "File Delete"), (60, 30, 7, 3)
        )[0]
        size = int(rng.lognormvariate(11.5, 1.2))
        rows.file(rng.randint(on, off), user, pc, _doc(rng, user), action, size)
    if "customer_db" in user.traits:
        for _ in range(rng.randint(0, 3)):
            path = f"/database/customers/customer_{rng.randint(1, 4999):04d}.csv"
            sec = rng.randint(on, off)
            rows.file(sec, user, pc, path, "File Open", rng.randint(5_000_000, 40_000_000))


def _bob_files(
    rows: _Rows, rng: random.Random, user: _User, pc: str, span: tuple[int, int]
) -> None:
    """Scenario 3 baseline: project_docs reads and commits, about 5 MB a working day."""
    on, off = span
    count = rng.randint(15, 25)
    total = int(BASELINE_DAILY_BYTES * rng.uniform(0.9, 1.1))
    for size in _split_total(rng, total, count):
        sec = rng.randint(on, off)
        if rng.random() < 0.3:
            path = f"/shared/engineering/project_docs/src/module_{rng.randint(1, 40)}.py"
            rows.file(sec, user, pc, path, "File Write", size)
            commit = (
                f"https://git.{ORG_DOMAIN}/engineering/project_docs/commit/{rng.getrandbits(40):x}"
            )
            rows.web(sec + 30, user, pc, commit, "WWW Visit", rng.randint(20_000, 80_000))
        else:
            path = f"/shared/engineering/project_docs/{rng.choice(_WORDS)}_{rng.randint(1, 60)}.md"
            rows.file(sec, user, pc, path, "File Open", size)


def _mail(
    rows: _Rows, rng: random.Random, org: _Org, user: _User, pc: str, span: tuple[int, int]
) -> None:
    on, off = span
    peers = [other.email for other in org.colleagues(user)] or [user.email]
    for _ in range(rng.randint(1, max(2, (off - on) // _HOUR))):
        external = rng.random() < 0.06
        if external:
            to = [f"{rng.choice(_FIRST).lower()}@{rng.choice(_PARTNERS)}"]
        else:
            to = rng.sample(peers, min(len(peers), rng.randint(1, 3)))
        cc = [rng.choice(peers)] if rng.random() < 0.3 else []
        files = []
        if rng.random() < (0.5 if external else 0.2):
            name = (
                f"{rng.choice(_WORDS)}_{rng.randint(1, 99)}.{rng.choice(('pdf', 'docx', 'xlsx'))}"
            )
            files.append((name, rng.randint(20_000, 3_000_000)))
        rows.mail(rng.randint(on, off), user, pc, to, cc, files)
    if "personal_mail" in user.traits and rng.random() < 0.05:
        home = f"{user.name.split()[0].lower()}{rng.randint(1, 99)}@{rng.choice(_PERSONAL)}"
        rows.mail(rng.randint(on, off), user, pc, [home], [], [])


def _habits(
    rows: _Rows, rng: random.Random, org: _Org, user: _User, pc: str, span: tuple[int, int]
) -> None:
    """Trait-driven activity inside a session: admin hops, USB drives, small cloud uploads."""
    on, off = span
    if "sysadmin" in user.traits:
        for other in rng.sample(org.users, rng.randint(2, 6)):
            hop = rng.randint(on, max(on, off - 3600))
            rows.logon(user, other.pc, hop, hop + rng.randint(300, 2400))
            rows.file(hop + 60, user, other.pc, rng.choice(_ADMIN_TOOLS), "File Open", 900_000)
    if "usb" in user.traits and rng.random() < 0.8:
        plug = rng.randint(on, max(on, off - 3600))
        rows.add("device", plug, user, pc, "Connect")
        for n in range(rng.randint(1, 4)):
            size = int(rng.lognormvariate(11.5, 1.0))
            rows.file(plug + 60 * (n + 1), user, pc, _doc(rng, user), "File Copy", size, True)
        rows.add("device", plug + rng.randint(600, 3600), user, pc, "Disconnect")
    if "dropbox" in user.traits and rng.random() < 0.25:
        visit, upload = _CLOUD[0]
        sec = rng.randint(on, off)
        rows.web(sec, user, pc, visit, "WWW Visit", rng.randint(50_000, 200_000))
        rows.web(sec + 120, user, pc, upload, "WWW Upload", rng.randint(500_000, 15_000_000))


def _ordinary(rows: _Rows, rng: random.Random, org: _Org) -> None:
    for day in range(org.days):
        for user in org.users:
            if not user.active(day):
                continue
            for pc, on, off in _sessions(rng, org, user, day):
                rows.logon(user, pc, on, off)
                span = (on + 60, off - 60)
                _browse(rows, rng, user, pc, span)
                _work_files(rows, rng, user, pc, span)
                _mail(rows, rng, org, user, pc, span)
                _habits(rows, rng, org, user, pc, span)


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


def _truth(org: _Org, plan: _Plan, description: str) -> InjectedScenario:
    return InjectedScenario(
        user=plan.user.uid,
        scenario=plan.scenario,
        first_day=org.start + timedelta(days=plan.first),
        last_day=org.start + timedelta(days=plan.last),
        description=description,
    )


def _inject_theft(rows: _Rows, rng: random.Random, org: _Org, plan: _Plan) -> InjectedScenario:
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
    return _truth(
        org,
        plan,
        (
            "weeks of job-site and competitor browsing, then first-ever USB use and "
            f"{copied} file copies to removable media, then resignation (absent from the next "
            "LDAP snapshot)"
        ),
    )


def _inject_night(rows: _Rows, rng: random.Random, org: _Org, plan: _Plan) -> InjectedScenario:
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
    return _truth(
        org,
        plan,
        (
            f"{NIGHT_DOWNLOADS} downloads of /database/customers/customer_*.csv from 02:00, "
            f"{NIGHT_BYTES // 1_000_000:,} MB in 3 hours (baseline about "
            f"{BASELINE_DAILY_BYTES // 1_000_000} MB a day on /shared/engineering/project_docs)"
        ),
    )


def _inject_keylogger(rows: _Rows, rng: random.Random, org: _Org, plan: _Plan) -> InjectedScenario:
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
    return _truth(
        org,
        plan,
        (
            f"keylogger downloaded from {_KEYLOGGER_SITE}, copied to USB, installed on "
            f"{len(plan.victims)} colleagues' PCs (incl. the supervisor's), captured keystrokes "
            f"mailed to {home}"
        ),
    )


def _inject_cloud(rows: _Rows, rng: random.Random, org: _Org, plan: _Plan) -> InjectedScenario:
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
    return _truth(
        org,
        plan,
        (
            f"off-hours uploads to dropbox, wetransfer, mega and pastebin on {len(plan.days)} "
            f"nights, {total // 1_000_000:,} MB in all"
        ),
    )


_INJECTORS: Final[dict[str, Callable[[_Rows, random.Random, _Org, _Plan], InjectedScenario]]] = {
    "theft_before_resignation": _inject_theft,
    "night_mass_download": _inject_night,
    "admin_keylogger": _inject_keylogger,
    "cloud_upload": _inject_cloud,
}


# --- output --------------------------------------------------------------------------------


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


def _validate(users: int, days: int, scenarios: Sequence[str]) -> None:
    unknown = [name for name in scenarios if name not in SCENARIOS]
    if unknown:
        raise ConfigError.unknown("scenario", unknown[0], SCENARIOS)
    if len(set(scenarios)) != len(scenarios):
        raise ConfigError("each scenario can be injected once; remove the duplicate")
    if users < 12:
        raise ConfigError(f"users={users} is too small; give at least 12")
    if days < 21:
        raise ConfigError(f"days={days} is too short; give at least 21")


def generate_insider_dataset(
    out_dir: str | os.PathLike[str],
    seed: int = 7,
    *,
    users: int = 60,
    days: int = 45,
    start: date = DEFAULT_START,
    scenarios: Sequence[str] = SCENARIOS,
) -> GeneratedDataset:
    """Write a seeded CERT-format data set with injected insider scenarios.

    Args:
        out_dir: Directory to write ``logon.csv`` ... ``email.csv`` and ``LDAP/`` into
            (created if needed; existing files of the same names are replaced).
        seed: Random seed; the same arguments give byte-identical files.
        users: Population size, ``bob.engineer`` and the insiders included (at least 12).
        days: Length of the period in days (at least 21).
        start: First day of the period.
        scenarios: Scenarios to inject, a subset of :data:`SCENARIOS`, each on its own user.

    Returns:
        The written paths, row counts, ground truth and benign user ids.

    Raises:
        ConfigError: unknown scenario, too few users or days, or a period that cannot hold a
            requested scenario (``theft_before_resignation`` needs a month boundary).
    """
    _validate(users, days, scenarios)
    rng = random.Random(seed)
    org = _organisation(rng, users, days, start)
    plans = _plan(org, rng, scenarios)
    rows = _Rows(rng, start, days)
    _ordinary(rows, rng, org)
    truth = [_INJECTORS[plan.scenario](rows, rng, org, plan) for plan in plans]
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    files, counts = rows.write(directory)
    insiders = {item.user for item in truth}
    return GeneratedDataset(
        directory=directory,
        files=files,
        ldap=_write_ldap(directory, org),
        rows=counts,
        truth=truth,
        benign_users=sorted(user.uid for user in org.users if user.uid not in insiders),
        seed=seed,
    )
