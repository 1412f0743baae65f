"""Kinds, titles, patterns, narratives, reasons and ATT&CK mapping of insider incidents.

Kind (one per incident, first match wins): ``privilege_abuse`` (spy or admin tools, other
users' machines), ``cloud_exfiltration`` (uploads to cloud storage or paste sites),
``email_exfiltration`` (attachments mailed outside), ``removable_media_exfiltration``
(first-time or spiking removable media), else ``data_exfiltration`` (volume, downloads,
never-seen resources). ``stats["pattern"]`` gives the finer story.

ATT&CK, only where the events show it:

* never-seen file resources, volume or downloads from files: T1039 Data from Network Shared
  Drive, or T1005 Data from Local System when the main path is on a local drive (``c:/``);
* removable media: T1052.001 Exfiltration over USB;
* cloud uploads: T1567.002 Exfiltration to Cloud Storage;
* attachments mailed outside: T1048 Exfiltration Over Alternative Protocol (mail through
  the company server to an outside address; no sub-technique is claimed);
* spy tools whose URL or file name says keylogger: T1056.001 Keylogging;
* other users' machines, logons and mail as another user: T1078 Valid Accounts (accounts
  used on machines or under addresses that are not theirs).

Leak-site requests claim no technique: a page visit does not show an upload.

Web-only activity (domains) maps to no collection technique: a web download is not data
from the company's systems.
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

from ...enrich.attack import attack_ref
from ...models import AttackRef
from ._config import InsiderThresholds

__all__ = ["attack_for", "kind_for", "narrative_for", "pattern_for", "reasons_for", "title_for"]

_KIND_RULES = (
    (
        "privilege_abuse",
        (
            "spy_tools",
            "admin_tools",
            "foreign_hosts",
            "foreign_media",
            "foreign_logon",
            "foreign_mail",
        ),
    ),  # fmt: skip
    ("cloud_exfiltration", ("cloud_upload", "leak_site")),
    ("email_exfiltration", ("external_attachments",)),
    ("removable_media_exfiltration", ("removable_media_first_time", "removable_media_spike")),
)
_CORE = {
    "privilege_abuse": "privileged activity",
    "cloud_exfiltration": "uploads to cloud storage",
    "email_exfiltration": "attachments mailed outside",
    "removable_media_exfiltration": "removable-media use",
}
_LOCAL = re.compile(r"^[a-z]:/")
_MB = 1_000_000


def kind_for(features: list[str]) -> str:
    """The incident kind from the fired features (see the module docstring)."""
    fired = set(features)
    for kind, needs in _KIND_RULES:
        if fired.intersection(needs):
            return kind
    return "data_exfiltration"


def _mb(value: float) -> str:
    return f"{value / _MB:,.0f} MB" if value >= 10 * _MB else f"{value / _MB:,.1f} MB"


def _when(stats: dict[str, Any], row: dict[str, Any]) -> str:
    if "off_hours" not in stats["features"]:
        return ""
    return "night " if row["off_abs"] * 2 >= row["n"] else "off-hours "


def pattern_for(kind: str, stats: dict[str, Any], row: dict[str, Any], novel_kind: str) -> str:
    """Short label, e.g. ``night mass download of never-seen data outside the peer group``."""
    fired = set(stats["features"])
    if kind == "data_exfiltration":
        core = "mass download" if "downloads" in fired else "unusual data volume"
    elif kind == "privilege_abuse" and "spy_tools" in fired:
        core = "keylogger download" if stats.get("keylogger") else "spy-tool download"
    elif kind == "privilege_abuse" and "admin_tools" in fired:
        core = "first use of admin tools"
    elif kind == "privilege_abuse" and fired & {"foreign_mail", "foreign_logon"}:
        core = "acting as another user"
    elif kind == "privilege_abuse" and "foreign_media" in fired:
        core = "removable media on another user's machine"
    elif kind == "cloud_exfiltration" and "cloud_upload" not in fired:
        core = "leak-site visits"
    else:
        core = _CORE.get(kind, "unusual activity")
    label = _when(stats, row) + core
    if "mass_email" in fired:
        label += " and a mass e-mail"
    if "after_hours_first" in fired:
        label = "first-ever after-hours " + label.removeprefix("off-hours ")
    if "new_resources" in fired:
        label += " of never-seen data" if novel_kind == "file" else " to a never-seen destination"
        if "outside_peers" in fired:
            label += " outside the peer group"
    if "leaver" in fired:
        label += " before leaving"
    elif "job_search" in fired:
        label += " after job-site visits"
    return label


def _span(novel: pl.DataFrame) -> str:
    if novel.is_empty() or novel["t_first"][0] is None:
        return ""
    first, last = novel["t_first"][0], novel["t_last"][0]
    if first.date() != last.date():
        return f" between {first:%Y-%m-%d %H:%M} and {last:%Y-%m-%d %H:%M}"
    if first == last:
        return f" at {first:%H:%M}"
    return f" between {first:%H:%M} and {last:%H:%M}"


def _where(stats: dict[str, Any], novel: pl.DataFrame) -> str:
    """`` from /database/customers, a resource never used before and outside Sales``."""
    if novel.is_empty():
        return ""
    kind = novel["kind"][0]
    what = "a resource" if kind == "file" else "a destination"
    where = (
        f" {'from' if kind == 'file' else 'to'} {novel['resource'][0]}, {what} never used before"
    )
    if bool(novel["outside"][0]):
        where += f" and outside {_unit(stats['department'])}"
    return where + ","


def _unit(department: str | None) -> str:
    """``Engineering`` from CERT's numbered ``1 - Engineering``; the peer group without one."""
    return re.sub(r"^\d+\s*-\s*", "", department) if department else "the peer group"


def _volume(stats: dict[str, Any]) -> str:
    ratio = stats["volume_ratio"]
    against = ""
    if ratio is not None and ratio >= 2:
        against = f", {ratio:,.0f}x the {_mb(stats['baseline_daily_bytes'])} daily baseline"
    return f"{_mb(stats['volume_bytes'])}{against}"


def _lead(kind: str, stats: dict[str, Any], novel: pl.DataFrame) -> str:
    """The first sentence, by kind, without the final period."""
    user, volume = stats["user"], _volume(stats)
    place = (_where(stats, novel) + _span(novel)).rstrip(",")
    if kind == "removable_media_exfiltration":
        first = " for the first time" if stats["removable_media_first_time"] else ""
        return (
            f"{user} used removable media{first} ({stats['removable_media_events']} events) "
            f"while moving {volume}"
        )
    if kind == "cloud_exfiltration" and not stats["cloud_uploads"]:
        return f"{user} made {stats['leak_site_visits']} requests to leak sites{place}"
    if kind == "cloud_exfiltration":
        return f"{user} made {stats['cloud_uploads']} uploads ({volume}){place}"
    if kind == "email_exfiltration":
        return (
            f"{user} mailed {stats['external_attachments']} attachments outside the company "
            f"({stats['personal_attachments']} to personal mail; {volume}){place}"
        )
    if kind == "privilege_abuse":
        tools = "keylogger" if stats.get("keylogger") else "admin or spy tool"
        return (
            f"{user} showed {stats['privilege_actions']} privileged actions ({tools} "
            f"downloads or files, {stats['foreign_hosts']} other users' machines, "
            f"{stats['foreign_logons']} logons and {stats['foreign_mails']} mails on or as "
            f"another user's account){place}"
        )
    return f"{user} downloaded {stats['downloads']:,} files ({volume}){place}"


def _extras(kind: str, stats: dict[str, Any]) -> list[str]:
    extras = []
    if "off_hours" in stats["features"]:
        hours = stats["usual_hours"]
        usual = f" ({hours[0]:02d}:00-{hours[1]:02d}:00)" if hours else ""
        extras.append(f"{stats['off_hours_share']:.0%} of the activity fell outside the usual "
                      f"hours{usual}")  # fmt: skip
    if stats["removable_media_events"] and kind != "removable_media_exfiltration":
        first = " for the first time" if stats["removable_media_first_time"] else ""
        extras.append(f"used removable media{first}")
    if stats["after_hours_logons"]:
        extras.append(f"logged on {stats['after_hours_logons']} times after hours")
    if stats["leak_site_visits"] and kind != "cloud_exfiltration":
        extras.append(f"{stats['leak_site_visits']} requests to leak sites")
    if stats["max_recipients"] and "mass_email" in stats["features"]:
        extras.append(f"sent a mail to {stats['max_recipients']} recipients")
    if stats["job_sites"]:
        extras.append(f"visited job sites {stats['job_sites']} times")
    if stats["left_company"]:
        extras.append(f"left the company ({stats['left_on']})")
    return extras


def narrative_for(kind: str, stats: dict[str, Any], novel: pl.DataFrame) -> str:
    """One or two sentences with the numbers (the analysts read it first)."""
    days = stats["active_days"]
    first = _lead(kind, stats, novel) + ("" if days == 1 else f" over {days} days") + "."
    extras = _extras(kind, stats)
    if not extras:
        return first
    return first + " Also: " + "; ".join(extras) + "."


def title_for(kind: str, stats: dict[str, Any]) -> str:
    """One-line summary, e.g. ``Data exfiltration: bob.engineer, night mass download ...``."""
    label = kind.replace("_", " ").capitalize()
    return f"{label}: {stats['user']}, {stats['pattern']} ({_mb(stats['volume_bytes'])})"


def reasons_for(stats: dict[str, Any], cfg: InsiderThresholds) -> tuple[str, ...]:
    """One sentence per fired feature, with the numbers and the rule."""
    texts = {
        "volume": f"Volume {_mb(stats['volume_bytes'])}, {stats['volume_ratio']}x the daily "
        f"baseline (rule: over {cfg.volume_ratio:g}x a capped reference and "
        f"{_mb(cfg.volume_min_bytes)}).",
        "downloads": f"{stats['downloads']} downloads (rule: more than {cfg.downloads_min}).",
        "new_resources": f"{stats['new_resources']} never-seen resources, e.g. "
        f"{', '.join(stats['new_resource_examples'][:3])}.",
        "outside_peers": f"{stats['new_resources_outside_peers']} of them used by no peer "
        f"({stats['department'] or 'organisation'}).",
        "new_hosts": f"{stats['new_hosts']} never-used hosts.",
        "off_hours": f"{stats['off_hours_share']:.0%} of events outside the usual hours "
        f"{stats['usual_hours']}.",
        "removable_media_first_time": "Removable media used for the first time.",
        "removable_media_spike": f"{stats['removable_media_events']} removable-media events, "
        f"over {cfg.removable_ratio:g}x the baseline.",
        "cloud_upload": f"{stats['cloud_uploads']} uploads to cloud storage or paste sites.",
        "external_attachments": f"{stats['external_attachments']} mails with attachments sent "
        f"outside ({stats['personal_attachments']} to personal mail domains).",
        "competitor_contact": f"{stats['competitor_contacts']} contacts with competitors.",
        "admin_tools": "Administration tools used, which the user never used before.",
        "spy_tools": "Keylogger, spyware or credential-dumping tools downloaded or stored.",
        "foreign_hosts": f"{stats['foreign_hosts']} other users' machines used.",
        "foreign_media": f"{stats['foreign_media_events']} removable-media events on other "
        "users' machines, never before.",
        "after_hours_first": f"{stats['after_hours_logons']} logons after hours (outside "
        f"{cfg.work_start_hour:02d}:00-{cfg.work_end_hour:02d}:00), never in the baseline.",
        "leak_site": f"{stats['leak_site_visits']} requests to leak sites.",
        "foreign_logon": f"{stats['foreign_logons']} logons on other users' machines (rare "
        "for this user).",
        "foreign_mail": f"{stats['foreign_mails']} mails sent from another user's machine or "
        "address, never before.",
        "mass_email": f"A mail to {stats['max_recipients']} recipients (rule: at least "
        f"{cfg.mass_email_min} and over {cfg.mass_email_ratio:g}x the largest baseline mail).",
        "job_search": f"{stats['job_sites']} job-site visits before or during the episode.",
        "leaver": f"The directory says the user left on {stats['left_on']}.",
    }  # fmt: skip
    reasons = [texts[f] for f in stats["features"] if f in texts]
    reasons.append(
        f"{stats['families']} independent families of evidence fired (incidents need "
        f"{cfg.min_families}; high severity needs {cfg.high_families})."
    )
    return tuple(reasons)


def attack_for(kind: str, stats: dict[str, Any], novel: pl.DataFrame) -> tuple[AttackRef, ...]:
    """Validated ATT&CK techniques the incident's events support."""
    fired = set(stats["features"])
    ids: list[str] = []
    files = novel.filter(pl.col("kind") == "file") if novel.height else novel
    if files.height and fired & {"new_resources", "volume", "downloads"}:
        ids.append("T1005" if _LOCAL.match(str(files["resource"][0])) else "T1039")
    if "spy_tools" in fired and stats.get("keylogger"):
        ids.append("T1056.001")
    if fired & {"foreign_hosts", "foreign_logon", "foreign_mail"}:
        ids.append("T1078")
    if fired & {"removable_media_first_time", "removable_media_spike", "foreign_media"}:
        ids.append("T1052.001")
    if "cloud_upload" in fired:
        ids.append("T1567.002")
    if "external_attachments" in fired:
        ids.append("T1048")
    return tuple(attack_ref(t) for t in ids)
