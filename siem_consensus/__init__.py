"""siem_consensus: consensus-gated triage of security telemetry.

Deterministic detectors cut events down to candidate incidents with evidence; independent
analysts judge each one; a consensus policy decides ``alert`` / ``needs_review`` /
``dismissed``; anything uncertain or broken goes to a human.
"""

from .analysts import Analyst, BaselineAnalyst, RulesAnalyst
from .api import (
    RunArgs,
    analyze_auth,
    analyze_firewall,
    correlate_ids_alerts,
    detect_insider_threats,
    write_members,
)
from .consensus import (
    ConsensusPolicy,
    MajorityPolicy,
    UnanimousPolicy,
    WeightedPolicy,
    decide,
    verify_verdict,
)
from .enrich.zones import Asset, AssetInventory
from .errors import (
    ConfigError,
    ConnectorError,
    InputError,
    MissingDependencyError,
    ProviderError,
    RuntimeFailure,
    SiemConsensusError,
    UnknownFormatError,
    UsageError,
)
from .examples import example_1, example_2, example_3, example_4
from .graphs.auth import build_auth_graph
from .graphs.firewall import build_firewall_graph
from .graphs.ids import build_ids_graph
from .graphs.insider import build_insider_graph
from .graphs.nodes import TriageContext
from .graphs.triage import build_triage_graph
from .models import (
    AttackRef,
    DeadLetter,
    Decision,
    Entities,
    Event,
    Incident,
    InputStats,
    Outcome,
    Severity,
    Usage,
    Verdict,
    VerdictStatus,
)
from .report import AuthReport, FirewallReport, IdsReport, InsiderReport, Report
from .sources import EventStream

__version__ = "0.1.0"

__all__ = [
    "Analyst",
    "Asset",
    "AssetInventory",
    "AttackRef",
    "AuthReport",
    "BaselineAnalyst",
    "ConfigError",
    "ConnectorError",
    "ConsensusPolicy",
    "DeadLetter",
    "Decision",
    "Entities",
    "Event",
    "EventStream",
    "FirewallReport",
    "IdsReport",
    "Incident",
    "InputError",
    "InputStats",
    "InsiderReport",
    "MajorityPolicy",
    "MissingDependencyError",
    "Outcome",
    "ProviderError",
    "Report",
    "RulesAnalyst",
    "RunArgs",
    "RuntimeFailure",
    "Severity",
    "SiemConsensusError",
    "TriageContext",
    "UnanimousPolicy",
    "UnknownFormatError",
    "Usage",
    "UsageError",
    "Verdict",
    "VerdictStatus",
    "WeightedPolicy",
    "analyze_auth",
    "analyze_firewall",
    "build_auth_graph",
    "build_firewall_graph",
    "build_ids_graph",
    "build_insider_graph",
    "build_triage_graph",
    "correlate_ids_alerts",
    "decide",
    "detect_insider_threats",
    "example_1",
    "example_2",
    "example_3",
    "example_4",
    "verify_verdict",
    "write_members",
]
