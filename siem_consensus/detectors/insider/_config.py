"""Thresholds and site lists of the insider detector (pydantic, every field documented).

Defaults start from the book's insider rule (``seed/SCENARIOS.md``: volume over 10x baseline,
many never-seen resources, mostly off-hours, privilege actions, over 100 downloads, each
adding to a score, alert only on corroboration) and were checked with the seeded insider
generator (``docs/insider.md``). Tune them on your data.

Site and domain lists live in :mod:`._sites`.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "ADMIN_TOOL_PATTERN",
    "DEFAULT_WEIGHTS",
    "FAMILIES",
    "SPY_TOOL_PATTERN",
    "InsiderThresholds",
]

ADMIN_TOOL_PATTERN = (
    r"(?i)psexec|paexec|procdump|wmic\.exe|powersploit|nmap|netcat|\bnc\.exe|sysinternals|"
    r"remote.?admin|radmin|teamviewer|anydesk"
)
"""Regular expression (Rust regex syntax) over URLs and file paths: remote-execution and
administration tools. Ordinary for administrators (their baseline has them), notable for
anyone else."""

SPY_TOOL_PATTERN = (
    r"(?i)keylog|keystroke|keyboard.?(spy|logger|hook)|spyware|spy.?tool|mimikatz|pwdump|"
    r"lazagne|credential.?dump|hashcat|john.?the.?ripper|cain.?(and|&).?abel|rootkit"
)
"""Regular expression over URLs and file paths: keyloggers, spyware and credential dumpers."""

FAMILIES: dict[str, str] = {
    "volume": "volume",
    "downloads": "volume",
    "new_resources": "novelty",
    "outside_peers": "novelty",
    "new_hosts": "novelty",
    "off_hours": "timing",
    "removable_media_first_time": "media",
    "removable_media_spike": "media",
    "cloud_upload": "egress",
    "external_attachments": "egress",
    "competitor_contact": "egress",
    "admin_tools": "privilege",
    "spy_tools": "privilege",
    "foreign_hosts": "privilege",
    "foreign_media": "privilege",
    "after_hours_first": "timing",
    "leak_site": "egress",
    "foreign_logon": "impersonation",
    "foreign_mail": "impersonation",
    "mass_email": "broadcast",
    "job_search": "intent",
    "leaver": "intent",
}
"""Feature -> independent evidence family. Corroboration counts families, not features:
volume and downloads describe the same activity and count once."""

DEFAULT_WEIGHTS: dict[str, float] = {
    "volume": 0.30,
    "downloads": 0.15,
    "new_resources": 0.20,
    "outside_peers": 0.10,
    "new_hosts": 0.05,
    "off_hours": 0.15,
    "removable_media_first_time": 0.20,
    "removable_media_spike": 0.20,
    "cloud_upload": 0.25,
    "external_attachments": 0.20,
    "competitor_contact": 0.15,
    "admin_tools": 0.20,
    "spy_tools": 0.35,
    "foreign_hosts": 0.20,
    "foreign_media": 0.20,
    "after_hours_first": 0.10,
    "leak_site": 0.30,
    "foreign_logon": 0.20,
    "foreign_mail": 0.25,
    "mass_email": 0.20,
    "job_search": 0.10,
    "leaver": 0.15,
}
"""Largest contribution of each feature to the score (multiplied by its 0-1 strength)."""

_MB = 1_000_000


class InsiderThresholds(BaseModel):
    """Configuration of :class:`~siem_consensus.detectors.insider.InsiderDetector`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    baseline_days: int = Field(
        30, ge=1, description="Days from the first day of the input that build the baselines..."
    )
    max_baseline_share: float = Field(
        0.3,
        gt=0,
        lt=1,
        description="...but at most this share of the input's days (rounded down), so a "
        "short input keeps most of its days for detection: 45 days give a 13-day baseline "
        "(chosen on the generator's data, docs/insider.md).",
    )
    baseline_until: date | None = Field(
        None, description="First day of the detection period (overrides baseline_days)."
    )
    min_baseline_days: int = Field(
        5,
        ge=1,
        description="Users active on fewer baseline days get no personal baseline: "
        "novelty, off-hours and ratio features are not computed for them (nothing is 'new' "
        "to someone never seen), only the absolute ones.",
    )
    usual_hours_coverage: float = Field(
        0.9,
        gt=0,
        le=1,
        description="A user's usual hours are the shortest (circular) span "
        "of hours holding this share of the baseline events.",
    )
    work_start_hour: int = Field(7, ge=0, le=23, description="Absolute working day start.")
    work_end_hour: int = Field(20, ge=1, le=24, description="Absolute working day end (excl.).")
    off_hours_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="off_hours: at least this share of the day's events "
        "outside the user's usual hours (absolute hours for users without a baseline)...",
    )
    off_hours_min_events: int = Field(10, ge=1, description="...and at least this many.")
    volume_ratio: float = Field(
        10.0, gt=1, description="volume: daily bytes over this multiple of the reference..."
    )
    volume_min_bytes: int = Field(50 * _MB, ge=0, description="...and at least this many bytes.")
    volume_full_ratio: float = Field(
        100.0, gt=1, description="Ratio at which the volume strength is full."
    )
    volume_floor_bytes: int = Field(
        1 * _MB,
        ge=1,
        description="Smallest daily reference, so near-silent users do not get "
        "huge ratios from ordinary activity.",
    )
    volume_growth_per_week: float = Field(
        0.10,
        ge=0,
        description="Poisoning guard: the reference follows the trailing median of "
        "the user's recent days but never above the baseline median grown by this share per "
        "week since the baseline ended (nor below the baseline median).",
    )
    trailing_days: int = Field(28, ge=1, description="Window of the trailing daily median.")
    downloads_min: int = Field(100, ge=1, description="downloads: more than this many...")
    downloads_ratio: float = Field(
        5.0, gt=0, description="...and over this multiple of the user's 90th percentile."
    )
    resource_depth: int = Field(
        3, ge=1, le=10, description="File resources are directories cut to this many levels."
    )
    new_resources_min: int = Field(
        5,
        ge=1,
        description="new_resources: at least this many never-seen resources, and "
        "over new_resources_ratio times the user's baseline rate of first uses...",
    )
    new_resources_ratio: float = Field(3.0, gt=0, description="...(see new_resources_min).")
    new_resource_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="new_resources also fires when never-seen resources carry "
        "this share of a day's bytes (with at least volume_min_bytes) or of its downloads "
        "(with more than downloads_min): one new directory can hold the theft.",
    )
    novelty_days: int = Field(
        14,
        ge=1,
        description="Poisoning guard: a resource or host first used after the "
        "baseline stays 'never seen' for this many days.",
    )
    new_hosts_min: int = Field(1, ge=1, description="new_hosts: at least this many new hosts...")
    roaming_hosts: int = Field(
        4,
        ge=1,
        description="...for users with at most this many baseline hosts (admins and "
        "hot-deskers use new machines all the time).",
    )
    foreign_hosts_min: int = Field(
        5,
        ge=1,
        description="foreign_hosts: at least this many never-used hosts that are "
        "other users' machines (their main user in the baseline), in one day...",
    )
    foreign_hosts_ratio: float = Field(
        2.0, gt=0, description="...and this multiple of the user's 90th percentile of daily hosts."
    )
    removable_min_events: int = Field(
        3,
        ge=1,
        description="removable_media_spike: at least this many removable-media events "
        "and removable_ratio times the user's baseline daily mean.",
    )
    removable_ratio: float = Field(5.0, gt=0, description="See removable_min_events.")
    mass_email_min: int = Field(
        20,
        ge=2,
        description="mass_email: one sent mail with at least this many recipients (to, cc "
        "and bcc)...",
    )
    mass_email_ratio: float = Field(
        3.0, gt=0, description="...and over this multiple of the user's baseline largest mail."
    )
    count_ratio: float = Field(
        3.0,
        gt=0,
        description="cloud_upload, external_attachments: the day's count must be "
        "over this multiple of the user's baseline 90th percentile (and at least the minimum).",
    )
    cloud_uploads_min: int = Field(1, ge=1, description="cloud_upload: at least this many.")
    external_attachments_min: int = Field(
        2, ge=1, description="external_attachments: mails with attachments sent outside."
    )
    rare_share: float = Field(
        0.1,
        ge=0,
        le=1,
        description="job_search, competitor_contact, admin_tools, spy_tools, leak_site, "
        "foreign_logon: fire when the user had such activity on at most this share of "
        "baseline days.",
    )
    context_days: int = Field(
        30,
        ge=0,
        description="Job-search activity this many days before an episode counts "
        "as intent context in it.",
    )
    leaver_window_days: int = Field(
        60,
        ge=0,
        description="leaver: the directory says the user left within this many days "
        "after the episode.",
    )
    max_gap_days: int = Field(
        3,
        ge=1,
        description="Suspicious days at most this many days apart form one episode (3 bridges "
        "a weekend: Friday and Monday are one episode).",
    )
    min_families: int = Field(
        2,
        ge=1,
        description="Corroboration: an incident needs fired features in at least "
        "this many independent families (see FAMILIES).",
    )
    high_families: int = Field(
        3,
        ge=1,
        description="A score of high or above needs this many families; below it "
        "the score is capped at max_score_uncorroborated.",
    )
    max_score_uncorroborated: float = Field(0.6, ge=0, le=1, description="See high_families.")
    min_score: float = Field(0.3, ge=0, le=1, description="Incidents score at least this.")
    family_cap: float = Field(
        0.35, gt=0, le=1, description="Largest contribution of one family to the score."
    )
    weights: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_WEIGHTS),
        description="Per-feature weight (keys of FAMILIES); missing keys take the default.",
    )
    download_actions: frozenset[str] = Field(
        frozenset({"download", "file_download", "www_download", "file_copy", "copy"}),
        description="event_action values counted as downloads (compared normalised: lower "
        "case, runs of other characters as '_', like the CERT parsers write them).",
    )
    upload_actions: frozenset[str] = Field(
        frozenset({"upload", "www_upload", "file_upload"}),
        description="event_action values counted as uploads (HTTP POST and PUT count too).",
    )
    removable_actions: frozenset[str] = Field(
        frozenset({"connect", "usb_connect", "mount", "insert"}),
        description="event_action values of removable-media use (file events whose message "
        "says to_removable_media or from_removable_media count too, as the CERT r6 file log "
        "marks them).",
    )
    admin_tool_pattern: str = Field(
        ADMIN_TOOL_PATTERN, description="URLs and file paths of administration tools."
    )
    spy_tool_pattern: str = Field(
        SPY_TOOL_PATTERN, description="URLs and file paths of keyloggers and credential dumpers."
    )
    evidence_limit: int = Field(50, ge=1, le=1000, description="Evidence events per incident.")
    evidence_per_tag: int = Field(
        20, ge=1, le=100, description="Sample kept per user, day and evidence tag."
    )

    @field_validator("weights")
    @classmethod
    def _known_features(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(FAMILIES))
        if unknown:
            raise ValueError(f"unknown features {unknown}; valid ones: {sorted(FAMILIES)}")
        if any(w < 0 for w in value.values()):
            raise ValueError("feature weights must not be negative")
        return value

    def weight(self, feature: str) -> float:
        """The configured weight of a feature."""
        return self.weights.get(feature, DEFAULT_WEIGHTS[feature])
