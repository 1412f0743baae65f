"""CERT-format rows and the organisation's ordinary days (office hours, browsing, files, mail).

Private to :mod:`siem_consensus.generators.insider`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

from ._data import (
    _ADMIN_TOOLS,
    _CLOUD,
    _DAY,
    _DEPARTMENTS,
    _FIRST,
    _HOUR,
    _JOBS,
    _NEWS,
    _PARTNERS,
    _PERSONAL,
    _SOCIAL,
    _WORDS,
    BASELINE_DAILY_BYTES,
    HEADERS,
    ORG_DOMAIN,
    SCENARIO_3_USER,
)
from ._org import _Org, _User

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
