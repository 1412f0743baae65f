"""Turn the qualifying episodes of the insider detector into :class:`Incident` objects.

One incident per user and episode, with the documented ``stats`` (see
:mod:`siem_consensus.detectors.insider`), a bounded evidence sample (the first event of each
never-seen resource first, then the sampled events of the tags behind the fired features) and
an id derived from the user and the episode's first day.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

import polars as pl

from ...models import Entities, Event, Incident, Severity
from ._config import InsiderThresholds
from ._pipeline import Analysis
from ._text import attack_for, kind_for, narrative_for, pattern_for, reasons_for, title_for

__all__ = ["build_incidents"]

_EXAMPLES = 10
_HOSTS = 20
_TAGS = {
    "volume": "download", "downloads": "download", "new_resources": "download",
    "off_hours": "offhours", "removable_media_first_time": "removable",
    "removable_media_spike": "removable", "cloud_upload": "upload",
    "external_attachments": "attach", "admin_tools": "tool", "spy_tools": "spy",
    "foreign_hosts": "logon", "new_hosts": "logon", "competitor_contact": "attach",
    "after_hours_first": "offhours", "foreign_media": "removable", "foreign_logon": "logon",
    "foreign_mail": "logon", "mass_email": "bulkmail",
}  # fmt: skip
_KEYLOGGER = r"(?i)keylog|keystroke|keyboard.?(spy|logger|hook)"
_CATEGORY = {"file": "file", "web": "web", "mail": "email"}
_VALUE_FIELD = {"file": "file_path", "web": "url_original", "mail": "email_to"}


def build_incidents(
    analysis: Analysis, episodes: pl.DataFrame, cfg: InsiderThresholds, population: dict[str, Any]
) -> list[Incident]:
    """Describe every qualifying episode; most severe first."""
    if episodes.is_empty():
        return []
    base = analysis.days.unique("user", keep="first").select(
        "user", "base_days", "vol_median", "usual_start", "usual_end", "peer_median", "peer_users"
    )
    people = analysis.people.join(base, on="user", how="left")
    facts = {row["user"]: row for row in people.iter_rows(named=True)}
    incidents = [
        _incident(row, facts[row["user"]], analysis, cfg, population)
        for row in episodes.iter_rows(named=True)
    ]
    incidents.sort(key=lambda i: (-i.severity.rank, -i.score, i.id))
    return incidents


def _in_episode(frame: pl.DataFrame, user: str, days: list[date]) -> pl.DataFrame:
    day_values = pl.Series(days, dtype=pl.Date).implode()
    return frame.filter((pl.col("user") == user) & pl.col("day").is_in(day_values))


def _novel(analysis: Analysis, user: str, days: list[date]) -> pl.DataFrame:
    """The episode's never-seen resources, largest first."""
    rows = _in_episode(analysis.novel, user, days)
    return (
        rows.sort("t_first", "f_source", "f_line")
        .group_by("kind", "resource", maintain_order=True)
        .agg(
            *(pl.col(c).sum() for c in ("n", "bytes", "dl")),
            pl.col("outside").all(),
            pl.col("t_first").min(),
            pl.col("t_last").max(),
            *(pl.col(c).first() for c in ("f_source", "f_line", "f_action", "f_value", "f_host")),
        )
        .sort(["bytes", "n", "resource"], descending=[True, True, False])
    )


def _stats(
    row: dict[str, Any], person: dict[str, Any], novel: pl.DataFrame, analysis: Analysis
) -> dict[str, Any]:
    base_bytes = float(person["vol_median"] or 0.0)
    active = len(row["day_list"])
    ratio = row["bytes"] / (base_bytes * active) if base_bytes > 0 else None
    start, end = person["usual_start"], person["usual_end"]
    return {
        "user": row["user"],
        "role": person["role"],
        "department": person["department"],
        "baseline_days": int(person["base_days"] or 0),
        "active_days": active,
        "days": [d.isoformat() for d in row["day_list"]],
        "events": int(row["n"]),
        "volume_bytes": int(row["bytes"]),
        "baseline_daily_bytes": round(base_bytes),
        "volume_ratio": round(ratio, 1) if ratio is not None else None,
        "volume_reference_bytes": round(float(row["reference"] or 0.0)),
        "peer_daily_bytes": round(float(person["peer_median"] or 0.0)),
        "usual_hours": [start, end % 24 if end != 24 else 24] if start is not None else None,
        "left_company": person["left_company"],
        "left_on": person["left_on"].isoformat() if person["left_on"] else None,
        **_activity(row, novel, analysis),
        "features": list(row["features"]),
        "families": int(row["families"]),
        "score_terms": {f: round(row[f"s_{f}"], 3) for f in row["features"]},
    }


def _activity(row: dict[str, Any], novel: pl.DataFrame, analysis: Analysis) -> dict[str, Any]:
    """Counts of what the user did in the episode."""
    new_host_rows = _in_episode(analysis.novel_hosts, row["user"], row["day_list"])
    return {
        "downloads": int(row["dl"]),
        "new_resources": novel.height,
        "new_resource_examples": novel["resource"].head(_EXAMPLES).to_list(),
        "new_resources_outside_peers": int(novel["outside"].sum()) if novel.height else 0,
        "off_hours_share": round(row["off_n"] / row["n"], 3) if row["n"] else 0.0,
        "new_hosts": new_host_rows["host"].n_unique() if new_host_rows.height else 0,
        "foreign_hosts": int(row["foreign_n"]),
        "removable_media_first_time": row["s_removable_media_first_time"] > 0,
        "removable_media_events": int(row["rm"]),
        "job_sites": int(row["job_hits"]),
        "cloud_uploads": int(row["cloud_up"]),
        "external_attachments": int(row["ext_attach"]),
        "personal_attachments": int(row["personal_attach"]),
        "competitor_contacts": int(row["competitor"]),
        "privilege_actions": int(row["tool"]) + int(row["spy"]) + int(row["foreign_n"]),
        "after_hours_logons": int(row["logon_off"]),
        "leak_site_visits": int(row["leak_n"]),
        "foreign_logons": int(row["foreign_logon_n"]),
        "foreign_media_events": int(row["foreign_media_n"]),
        "foreign_mails": int(row["foreign_mail_n"]),
        "max_recipients": int(row["rcpt_max"] or 0),
    }


def _incident(
    row: dict[str, Any],
    person: dict[str, Any],
    analysis: Analysis,
    cfg: InsiderThresholds,
    population: dict[str, Any],
) -> Incident:
    novel = _novel(analysis, row["user"], row["day_list"])
    stats = _stats(row, person, novel, analysis)
    kind = kind_for(stats["features"])
    stats["keylogger"] = _keylogger(row, analysis)
    novel_kind = str(novel["kind"][0]) if novel.height else ""
    stats["pattern"] = pattern_for(kind, stats, row, novel_kind)
    stats["narrative"] = narrative_for(kind, stats, novel)
    stats["population"] = population
    evidence = _evidence(row, novel, analysis, cfg.evidence_limit)
    score = float(row["score"])
    return Incident(
        id=_incident_id(row["user"], row["start"]),
        detector="insider",
        kind=kind,
        title=title_for(kind, stats),
        severity=Severity.from_score(score),
        score=score,
        entities=Entities(users=(row["user"],), hosts=_hosts(analysis, row)),
        first_seen=row["t_first"],
        last_seen=row["t_last"],
        event_count=int(row["n"]),
        evidence_event_ids=tuple(e.event_id for e in evidence),
        evidence=evidence,
        stats=stats,
        attack=attack_for(kind, stats, novel),
        reasons=reasons_for(stats, cfg),
    )


def _keylogger(row: dict[str, Any], analysis: Analysis) -> bool:
    """True when a spy-tool event of the episode names a keylogger."""
    if not row["spy"]:
        return False
    tools = _in_episode(analysis.evidence, row["user"], row["day_list"]).filter(
        pl.col("tag") == "spy"
    )
    text = pl.concat_str(pl.col("url_original"), pl.col("file_path"), ignore_nulls=True)
    return bool(tools.select(text.str.contains(_KEYLOGGER).any()).item())


def _incident_id(user: str, start: date) -> str:
    digest = hashlib.sha256(f"insider|{user}|{start.isoformat()}".encode())
    return "ins-" + digest.hexdigest()[:16]


def _hosts(analysis: Analysis, row: dict[str, Any]) -> tuple[str, ...]:
    used = (
        _in_episode(analysis.hosts, row["user"], row["day_list"])
        .group_by("host").agg(pl.col("n").sum())
        .sort(["n", "host"], descending=[True, False])
        .head(_HOSTS)
    )  # fmt: skip
    return tuple(sorted(used["host"].to_list()))


def _resource_event(user: str, item: dict[str, Any]) -> Event:
    return Event.model_validate(
        {
            "event_id": f"{item['f_source']}:{item['f_line']}",
            "timestamp": item["t_first"],
            "event_category": _CATEGORY[item["kind"]],
            "event_action": item["f_action"],
            "user_name": user,
            "host_name": item["f_host"],
            _VALUE_FIELD[item["kind"]]: item["f_value"],
        }
    )


def _tag_events(row: dict[str, Any], analysis: Analysis) -> list[Event]:
    tags = sorted({_TAGS[f] for f in row["features"] if f in _TAGS})
    if not tags:
        return []
    frame = _in_episode(analysis.evidence, row["user"], row["day_list"]).filter(
        pl.col("tag").is_in(pl.Series(tags, dtype=pl.String).implode())
    )
    events = []
    for item in frame.sort("timestamp", "source", "line").iter_rows(named=True):
        fields = {k: v for k, v in item.items() if k not in ("user", "day", "tag", "source")}
        fields["event_id"] = f"{item['source']}:{fields.pop('line')}"
        events.append(Event.model_validate(fields))
    return events


def _evidence(
    row: dict[str, Any], novel: pl.DataFrame, analysis: Analysis, limit: int
) -> tuple[Event, ...]:
    chosen: dict[str, Event] = {}
    for item in novel.head(_EXAMPLES).iter_rows(named=True):
        event = _resource_event(row["user"], item)
        chosen.setdefault(event.event_id, event)
    for event in _tag_events(row, analysis):
        if len(chosen) >= limit:
            break
        chosen.setdefault(event.event_id, event)
    return tuple(sorted(chosen.values(), key=_event_order))


def _event_order(event: Event) -> tuple[float, str]:
    return (event.timestamp.timestamp() if event.timestamp else 0.0, event.event_id)
