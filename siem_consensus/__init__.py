"""siem_consensus: consensus-gated triage of security telemetry.

Deterministic detectors cut events down to candidate incidents with evidence; independent
analysts judge each one; a consensus policy decides ``alert`` / ``needs_review`` /
``dismissed``; anything uncertain or broken goes to a human.

The names below are imported on first use (PEP 562), so ``import siem_consensus`` and
``siem-consensus --help`` stay light: graphs, analysts, connectors and vendor SDKs load when a
name that needs them is first touched.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from .analysts import (
        Analyst,
        BaselineAnalyst,
        RulesAnalyst,
    )
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
    from .enrich.zones import (
        Asset,
        AssetInventory,
    )
    from .examples import (
        example_1,
        example_2,
        example_3,
        example_4,
    )
    from .graphs.auth import (
        build_auth_graph,
    )
    from .graphs.firewall import (
        build_firewall_graph,
    )
    from .graphs.ids import (
        build_ids_graph,
    )
    from .graphs.insider import (
        build_insider_graph,
    )
    from .graphs.nodes import (
        TriageContext,
    )
    from .graphs.triage import (
        build_triage_graph,
    )
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
    from .report import (
        AuthReport,
        FirewallReport,
        IdsReport,
        InsiderReport,
        Report,
    )
    from .sources import (
        EventStream,
    )

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "Analyst": "analysts",
    "Asset": "enrich.zones",
    "AssetInventory": "enrich.zones",
    "AttackRef": "models",
    "AuthReport": "report",
    "BaselineAnalyst": "analysts",
    "ConsensusPolicy": "consensus",
    "DeadLetter": "models",
    "Decision": "models",
    "Entities": "models",
    "Event": "models",
    "EventStream": "sources",
    "FirewallReport": "report",
    "IdsReport": "report",
    "Incident": "models",
    "InputStats": "models",
    "InsiderReport": "report",
    "MajorityPolicy": "consensus",
    "Outcome": "models",
    "Report": "report",
    "RulesAnalyst": "analysts",
    "RunArgs": "api",
    "Severity": "models",
    "TriageContext": "graphs.nodes",
    "UnanimousPolicy": "consensus",
    "Usage": "models",
    "Verdict": "models",
    "VerdictStatus": "models",
    "WeightedPolicy": "consensus",
    "analyze_auth": "api",
    "analyze_firewall": "api",
    "build_auth_graph": "graphs.auth",
    "build_firewall_graph": "graphs.firewall",
    "build_ids_graph": "graphs.ids",
    "build_insider_graph": "graphs.insider",
    "build_triage_graph": "graphs.triage",
    "correlate_ids_alerts": "api",
    "decide": "consensus",
    "detect_insider_threats": "api",
    "example_1": "examples",
    "example_2": "examples",
    "example_3": "examples",
    "example_4": "examples",
    "verify_verdict": "consensus",
    "write_members": "api",
}

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


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'siem_consensus' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
