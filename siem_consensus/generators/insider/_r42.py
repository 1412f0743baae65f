"""CERT r4.2-format rows (no byte counts, no content) and the ordinary days of the CERT shapes.

Private to :mod:`siem_consensus.generators.insider`. The organisation comes from
:mod:`._org`; this module adds the traits a CERT-sized population needs (scaled counts and the
benign look-alikes of the three CERT scenarios) and writes everyone's ordinary days.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from ._activity import _Rows, _sessions
from ._data import _DAY, _HOUR, _JOBS, _NEWS, _PARTNERS, _SOCIAL, _TRAITS, _WORDS, ORG_DOMAIN
from ._org import _Org, _User

R42_HEADERS: Final = {
    "logon": "id,date,user,pc,activity",
    "device": "id,date,user,pc,activity",
    "file": "id,date,user,pc,filename,content",
    "http": "id,date,user,pc,url,content",
    "email": "id,date,user,pc,to,cc,bcc,from,size,attachments,content",
}
"""Header rows of the r4.2 files (``content`` left empty)."""

FILE_SHARING: Final = (
    "https://www.dropbox.com/home",
    "https://drive.google.com/drive/my-drive",
    "https://www.mediafire.com/upload",
)
LEAK_READING: Final = ("https://wikileaks.org/plusd/", "https://cryptome.org/")
_LOOKALIKES: Final = {  # trait: users per 100 (benign look-alikes of the CERT scenarios)
    "late_once": 6,  # a first-ever evening or two of work after the baseline
    "usb_once": 4,  # a first-ever thumb drive after the baseline
    "leak_reader": 1,  # reads leak sites now and then, from the start
    "job_seeker": 3,
    "leaver": 5,  # leaves at the end of some month, half of them after job searching
}


class _R42Rows(_Rows):
    """Rows in the r4.2 columns: file and web rows carry no activity and no bytes."""

    def copy(self, sec: int, user: _User, pc: str, path: str) -> None:
        self.add("file", sec, user, pc, path, "")

    def visit(self, sec: int, user: _User, pc: str, url: str) -> None:
        self.add("http", sec, user, pc, url, "")

    def send(
        self, sec: int, user: _User, pc: str, to: Sequence[str], sender: str, *,
        cc: Sequence[str] = (), bcc: Sequence[str] = (), attachments: int = 0,
    ) -> None:  # fmt: skip
        size = self.rng.randint(3_000, 60_000) + attachments * self.rng.randint(20_000, 900_000)
        fields = (";".join(to), ";".join(cc), ";".join(bcc), sender, str(size), str(attachments))
        self.add("email", sec, user, pc, *fields, "")

    def thumb_drive(self, sec: int, user: _User, pc: str, copies: int) -> int:
        """Connect, ``copies`` file copies, disconnect; returns the second after it."""
        self.add("device", sec, user, pc, "Connect")
        for n in range(copies):
            self.copy(sec + 40 * (n + 1), user, pc, _document(self.rng, user))
        end = sec + 40 * (copies + 1) + self.rng.randint(60, 900)
        self.add("device", end, user, pc, "Disconnect")
        return end

    def write(self, directory: Path) -> tuple[dict[str, Path], dict[str, int]]:
        paths, counts = {}, {}
        for kind, rows in self.rows.items():
            rows.sort()
            paths[kind] = directory / f"{kind}.csv"
            body = "".join(line + "\n" for _, _, line in rows)
            paths[kind].write_text(R42_HEADERS[kind] + "\n" + body, encoding="utf-8")
            counts[kind] = len(rows)
        return paths, counts


def _document(rng: random.Random, user: _User) -> str:
    ext = rng.choice(("doc", "xls", "pdf", "txt", "zip"))
    return f"R:\\{user.dept}\\{rng.choice(_WORDS)}_{rng.randint(1, 900)}.{ext}"


def scale_traits(rng: random.Random, org: _Org) -> None:
    """Scale the trait counts to the population and add the scenario look-alikes."""
    ordinary = [u for u in org.users if u.role not in ("Manager", "Director")]
    factor = max(1.0, len(org.users) / 60)
    for trait, (count, depts) in _TRAITS.items():
        have = [u for u in org.users if trait in u.traits]
        pool = [u for u in ordinary if trait not in u.traits and (depts is None or u.dept in depts)]
        for user in rng.sample(pool, max(0, min(len(pool), round(count * factor) - len(have)))):
            user.traits.add(trait)
            if trait == "traveller":
                user.pcs = (user.pc, *rng.sample([u.pc for u in org.users], 2))
    for trait, per_100 in _LOOKALIKES.items():
        pool = [u for u in ordinary if not u.traits & {"sysadmin", trait}]
        for user in rng.sample(pool, min(len(pool), max(1, len(org.users) * per_100 // 100))):
            user.traits.add(trait)
    for user in org.users:
        if user.role in ("Manager", "Director") or user.dept == "HR":
            user.traits.add("announcer")


def plan_lookalikes(rng: random.Random, org: _Org, first: int, last_month: int) -> None:
    """Departure days of benign leavers and the days of the one-off look-alikes."""
    for user in org.users:
        if "leaver" in user.traits and user.left is None and last_month > first + 20:
            user.left = org.last_workday_before(rng.randint(first + 20, last_month))
            if rng.random() < 0.5:
                user.traits.add("job_seeker")
        user.oddities = {
            org.first_workday_from(rng.randint(first, org.days - 3))
            for _ in range(rng.randint(1, 2))
        }


def _browse(rows: _R42Rows, rng: random.Random, user: _User, pc: str, on: int, off: int) -> None:
    for _ in range(max(1, (off - on) * rng.randint(1, 2) // _HOUR)):
        pick = rng.random()
        if pick < 0.45:
            url = f"https://intranet.{ORG_DOMAIN}/{user.dept.lower()}/{rng.choice(_WORDS)}"
        elif pick < 0.7:
            url = rng.choice(_NEWS) + str(rng.randint(10_000, 99_999))
        elif pick < 0.85:
            url = f"https://www.google.com/search?q={rng.choice(_WORDS)}+{rng.choice(_WORDS)}"
        else:
            url = rng.choice(_SOCIAL) + f"{rng.getrandbits(32):x}"
        rows.visit(rng.randint(on, off), user, pc, url)
    extras = (
        ("job_seeker", 0.3, _JOBS),
        ("dropbox", 0.25, FILE_SHARING),
        ("leak_reader", 0.15, LEAK_READING),
    )
    for trait, chance, sites in extras:
        if trait in user.traits and rng.random() < chance:
            for _ in range(rng.randint(1, 3)):
                url = rng.choice(sites) + str(rng.randint(10**5, 10**6))
                rows.visit(rng.randint(on, off), user, pc, url)


def _mail(
    rows: _R42Rows, rng: random.Random, org: _Org, user: _User, pc: str, on: int, off: int
) -> None:
    peers = [other.email for other in org.colleagues(user)] or [user.email]
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.06:
            to = [f"{rng.choice(_WORDS)}@{rng.choice(_PARTNERS)}"]
        else:
            to = rng.sample(peers, min(len(peers), rng.randint(1, 3)))
        cc = [rng.choice(peers)] if rng.random() < 0.3 else []
        files = 1 if rng.random() < 0.2 else 0
        rows.send(rng.randint(on, off), user, pc, to, user.email, cc=cc, attachments=files)
    if "announcer" in user.traits and rng.random() < 0.2:
        everyone = [other.email for other in org.users if other is not user]
        to = rng.sample(everyone, min(len(everyone), rng.randint(15, 60)))
        rows.send(rng.randint(on, off), user, pc, to[:5], user.email, bcc=to[5:])


def _habits(
    rows: _R42Rows, rng: random.Random, org: _Org, user: _User, pc: str, span: tuple[int, int]
) -> None:
    on, off = span
    if "sysadmin" in user.traits:
        for other in rng.sample(org.users, rng.randint(2, 6)):
            hop = rng.randint(on, max(on, off - 3600))
            rows.logon(user, other.pc, hop, hop + rng.randint(300, 2400))
    if "usb" in user.traits and rng.random() < 0.4:
        sec = rng.randint(on, max(on, off - 3600))
        for _ in range(rng.randint(1, 2)):
            sec = rows.thumb_drive(sec, user, pc, rng.randint(1, 4)) + rng.randint(600, 3600)


def _oddity(rows: _R42Rows, rng: random.Random, org: _Org, user: _User, day: int) -> None:
    """The one-off look-alikes: an evening of work, a first thumb drive."""
    if "late_once" in user.traits:
        on = day * _DAY + int(rng.uniform(20.5, 22.5) * _HOUR)
        off = on + int(rng.uniform(0.5, 2) * _HOUR)
        rows.logon(user, user.pc, on, off)
        _browse(rows, rng, user, user.pc, on + 60, off - 60)
        _mail(rows, rng, org, user, user.pc, on + 60, off - 60)
    if "usb_once" in user.traits:
        sec = day * _DAY + int(rng.uniform(10, 15) * _HOUR)
        rows.thumb_drive(sec, user, user.pc, rng.randint(1, 3))


def ordinary_r42(rows: _R42Rows, rng: random.Random, org: _Org) -> None:
    """Everyone's ordinary days, then the look-alikes' one-off days."""
    for day in range(org.days):
        for user in org.users:
            if not user.active(day):
                continue
            for pc, on, off in _sessions(rng, org, user, day):
                rows.logon(user, pc, on, off)
                _browse(rows, rng, user, pc, on + 60, off - 60)
                _mail(rows, rng, org, user, pc, on + 60, off - 60)
                _habits(rows, rng, org, user, pc, (on + 60, off - 60))
            if day in user.oddities and org.workday(day):
                _oddity(rows, rng, org, user, day)
