"""Rules for insider-threat detections: corroboration, never a single weak signal.

They read the insider detector's statistics: ``features`` (the independent signals that
fired), ``volume_ratio``, ``new_resources``, ``off_hours_share``, ``removable_media_first_time``,
``cloud_uploads``, ``external_attachments``, ``job_sites``, ``privilege_actions``,
``leak_site_visits``, ``foreign_media_events``, ``foreign_mails``, ``max_recipients``,
``after_hours_logons``, ``left_company`` and ``pattern``. A raw indicator that restates a
fired feature (leak-site requests and ``leak_site``) is one signal, not two.
"""

from __future__ import annotations

from ._rules_base import Judgement, KindRule, Stats, count, flag, items, number

__all__ = ["INSIDER_MIN_SIGNALS", "INSIDER_RULES", "insider_rule"]

_ACTIONS = (
    "Disable the account pending review (needs approval: career-impacting)",
    "Preserve evidence: endpoint image, file access and proxy logs, mailbox",
    "Review the downloaded / transferred files to identify the data at risk",
    "Notify Legal and HR before any contact with the employee",
)


INSIDER_MIN_SIGNALS = 3
"""Independent signals at which an insider detection is a threat."""

_MASS_EMAIL = 20
"""Recipients of one mail from which a mail counts as a mass mail."""


def _signals(stats: Stats) -> dict[str, str]:
    """Independent signals: the detector's fired features plus the raw indicators, by name."""
    signals = {str(name): str(name).replace("_", " ") for name in items(stats, "features") if name}
    ratio = number(stats, "volume_ratio") or 0.0
    if ratio >= 10:
        signals["volume"] = f"data volume {ratio:,.0f}x the user's baseline"
    off_hours = number(stats, "off_hours_share") or 0.0
    if off_hours >= 0.5:
        signals["off_hours"] = f"{off_hours:.0%} of it off-hours"
    if flag(stats, "removable_media_first_time"):
        signals["removable_media_first_time"] = "first-ever removable media use"
    for key, label in (
        ("cloud_uploads", "cloud/paste uploads"),
        ("external_attachments", "attachments mailed outside"),
        ("job_sites", "job-search/competitor visits"),
        ("privilege_actions", "privilege actions"),
    ):
        value = count(stats, key)
        if value > 0:
            signals[key] = f"{value} {label}"
    for key, feature, label in (
        ("leak_site_visits", "leak_site", "requests to leak sites"),
        ("foreign_media_events", "foreign_media", "removable-media events on others' machines"),
        ("foreign_mails", "foreign_mail", "mails sent from another user's machine or address"),
    ):
        value = count(stats, key)
        if value > 0:
            signals[feature] = f"{value} {label}"
    recipients = count(stats, "max_recipients")
    if recipients >= _MASS_EMAIL:
        signals["mass_email"] = f"a mail to {recipients} recipients"
    if "after_hours_first" in signals:
        signals["after_hours_first"] = (
            f"{count(stats, 'after_hours_logons')} after-hours logons, never before"
        )
    if flag(stats, "left_company"):
        signals["leaver"] = "the user left the company right after"
    return signals


def _judge(stats: Stats) -> Judgement:
    """Threat only on three or more independent signals; confidence grows with each one."""
    signals = _signals(stats)
    count_ = len(signals)
    pattern = stats.get("pattern")
    pattern = pattern if isinstance(pattern, str) else ""
    why = [*signals.values(), *([f"pattern: {pattern}"] if pattern else [])]
    if count_ < INSIDER_MIN_SIGNALS:
        note = f"only {count_} independent signal(s): not enough to accuse anyone"
        return False, 0.6 if count_ == 2 else 0.75, [*why, note]
    return True, min(0.6 + 0.07 * count_, 0.95), [f"{count_} independent signals", *why]


def insider_rule(category: str, goal: str) -> KindRule:
    """A rule for one insider detection kind (all share the corroboration judge)."""
    return KindRule(
        category=category,
        goal=goal,
        impact="loss of customer or company data; legal, regulatory and reputational exposure",
        actions=_ACTIONS,
        judge=_judge,
    )


INSIDER_RULES: dict[str, KindRule] = {
    "insider_risk": insider_rule("insider_threat", "take company data out"),
    "data_exfiltration": insider_rule("insider_data_theft", "take company data out"),
    "removable_media_exfiltration": insider_rule("insider_data_theft", "copy data to USB media"),
    "cloud_exfiltration": insider_rule("insider_data_theft", "upload data to personal cloud"),
    "email_exfiltration": insider_rule("insider_data_theft", "mail data to a personal address"),
    "privilege_abuse": insider_rule("insider_sabotage", "abuse admin rights to spy or steal"),
}
