"""Typed entry points: a source in, a report out.

The entry points share their run options (:class:`RunArgs`): input format, analysts,
membership and dead-letter files, progress, checkpointing, concurrency and LLM settings.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, TypedDict, Unpack

from langgraph.types import Checkpointer

from .analysts.base import Analyst
from .analysts.llm.base import LLMSettings
from .connectors.base import Connector
from .consensus import ConsensusPolicy, get_policy
from .defaults import DECISION_DEFAULTS, DecisionDefaults
from .detectors.base import Detector, get_detector
from .enrich.zones import AssetInventory
from .parsers.reading import Limits
from .report import AuthReport, FirewallReport, IdsReport, InsiderReport
from .runner import RunOptions, run_triage, write_members
from .sources import Progress, Source

__all__ = [
    "DECISION_DEFAULTS",
    "DecisionDefaults",
    "RunArgs",
    "analyze_auth",
    "analyze_firewall",
    "correlate_ids_alerts",
    "detect_insider_threats",
    "write_members",
]


_FIREWALL, _IDS, _INSIDER, _AUTH = (
    DECISION_DEFAULTS[k] for k in ("firewall", "ids", "insider", "auth")
)


class RunArgs(TypedDict, total=False):
    """Keyword arguments every entry point accepts.

    Attributes:
        input_format: Parser name (``asa``, ``suricata``, ...); detected per file when absent.
        analysts: Analyst names/instances or ``"rules,claude"``; default the embedded
            ``rules`` and ``baseline`` (no key, no network).
        members_path: Write ``event_id,incident_id`` CSV for every event inside an incident
            (needs a re-readable source: paths, a list or a connector search).
        dead_letter_path: Write every rejected line there as JSON lines.
        progress: Callback ``(lines, bytes, total_bytes)`` while reading.
        checkpointer: LangGraph checkpointer persisting every step, or the path of a SQLite
            file (an ``AsyncSqliteSaver`` is opened on it for the run).
        thread_id: Checkpoint thread id (default: a fresh one per run).
        max_concurrency: Analyst calls in flight at once (default 16).
        llm_settings: Settings for LLM analysts given by name (budget, cache, retries).
        analyst_timeout: Seconds one analyst call may take once it is sent (default: 120 for
            embedded and custom analysts, ``LLMSettings.timeout`` for LLM analysts). For LLM
            analysts given by name it sets ``LLMSettings.timeout``: each HTTP attempt, counted
            from when the request goes out; the wait for a provider slot (concurrency limit)
            or for budget is not counted. LLM analyst instances keep their own settings.
        sinks: Connectors that receive the decisions after the run (``write_decisions``);
            what each did is in ``report.deliveries``. A sink that fails does not lose the
            report: its delivery lists every decision as a failure.
        limits: Caps on line length and (decompressed) size of each input
            (:class:`~siem_consensus.parsers.reading.Limits`).
        timezone: IANA zone (``Europe/Vienna``) of time stamps written without one (BSD
            syslog, ISO 8601 without an offset); UTC when absent.
    """

    input_format: str | None
    analysts: Sequence[str | Analyst] | str | None
    members_path: str | os.PathLike[str] | None
    dead_letter_path: str | os.PathLike[str] | None
    progress: Progress | None
    checkpointer: Checkpointer | str | os.PathLike[str]
    thread_id: str | None
    max_concurrency: int
    llm_settings: LLMSettings | None
    analyst_timeout: float
    sinks: Sequence[Connector]
    limits: Limits
    timezone: str | None


def analyze_firewall(
    source: Source | Sequence[os.PathLike[str]],
    *,
    policy: str | ConsensusPolicy = _FIREWALL.policy,
    threshold: float = _FIREWALL.threshold,
    thresholds: Any = None,
    inventory: AssetInventory | None = None,
    **run: Unpack[RunArgs],
) -> FirewallReport:
    """Find and judge suspicious activity in firewall / connection logs.

    Args:
        source: A path, a list of ``Path`` objects, or an iterable of raw lines, decoded
            JSON records (ECS) or :class:`~siem_consensus.models.Event` objects.
        policy: ``unanimous`` (default), ``majority`` or ``weighted``, or a policy instance.
        threshold: Confidence an outcome must reach (0-1); default 0.8.
        thresholds: ``FirewallThresholds`` for the detector.
        inventory: Asset inventory for zones and criticality.
        **run: The shared run options, see :class:`RunArgs`.

    Returns:
        The typed report: incidents, decisions, dead letters, input accounting, timings.
    """
    factory = _factory("firewall", thresholds)
    options = RunOptions(policy=get_policy(policy, threshold), inventory=inventory, **run)
    return run_triage(factory, FirewallReport, source, options)


def analyze_auth(
    source: Source | Sequence[os.PathLike[str]],
    *,
    policy: str | ConsensusPolicy = _AUTH.policy,
    threshold: float = _AUTH.threshold,
    thresholds: Any = None,
    inventory: AssetInventory | None = None,
    **run: Unpack[RunArgs],
) -> AuthReport:
    """Find and judge password guessing, and logins that follow it, in authentication logs.

    Args:
        source: OpenSSH syslog (``auth.log``, ``secure``), Zeek ``ssh.log`` (TSV or JSON),
            ECS authentication events (Winlogbeat 4624/4625): a path, a list of ``Path``
            objects, lines, records or Events.
        policy: ``unanimous`` (default), ``majority`` or ``weighted``, or a policy instance.
        threshold: Confidence an outcome must reach (0-1).
        thresholds: ``AuthThresholds`` for the detector.
        inventory: Asset inventory for zones and criticality.
        **run: The shared run options, see :class:`RunArgs`.

    Returns:
        The typed report: incidents, decisions, dead letters, input accounting, timings.
    """
    factory = _factory("auth", thresholds)
    options = RunOptions(policy=get_policy(policy, threshold), inventory=inventory, **run)
    return run_triage(factory, AuthReport, source, options)


def correlate_ids_alerts(
    source: Source | Sequence[os.PathLike[str]],
    *,
    policy: str | ConsensusPolicy = _IDS.policy,
    threshold: float = _IDS.threshold,
    thresholds: Any = None,
    inventory: AssetInventory | None = None,
    intel: Any = None,
    **run: Unpack[RunArgs],
) -> IdsReport:
    """Turn a flood of IDS alerts into a few incidents that tell an attack story.

    Parse -> enrich -> analyze -> validate -> alert (see :func:`build_ids_graph`).

    Args:
        source: Suricata EVE, fast.log, Wazuh alerts.json, Splunk JSON export, AIT-ADS CSV or
            ECS JSON: a path, a list of ``Path`` objects, lines, records or Events.
        policy: Default ``majority`` (more than half of the analysts must agree).
        threshold: Confidence an outcome must reach (0-1); default 0.8.
        thresholds: ``IdsThresholds`` for the correlator.
        inventory: Asset inventory: criticality raises incident scores.
        intel: ``ThreatIntel`` lists: listed addresses and domains raise scores.
        **run: The shared run options, see :class:`RunArgs`.
    """
    from .graphs.ids import IDS_NODES, stages_observed

    factory = _factory("ids", thresholds, inventory=inventory, intel=intel)
    options = RunOptions(
        policy=get_policy(policy, threshold),
        inventory=inventory,
        names=IDS_NODES,
        checks=(stages_observed,),
        **run,
    )
    return run_triage(factory, IdsReport, source, options)


def detect_insider_threats(
    source: Source | Sequence[os.PathLike[str]],
    *,
    policy: str | ConsensusPolicy = _INSIDER.policy,
    threshold: float = _INSIDER.threshold,
    thresholds: Any = None,
    directory: Any = None,
    action_sink: Any = None,
    **run: Unpack[RunArgs],
) -> InsiderReport:
    """Find corroborated insider-threat behaviour; alerts wait for a human to approve actions.

    Args:
        source: A CERT-format directory (``logon.csv``, ``device.csv``, ``file.csv``,
            ``http.csv``, ``email.csv``, ``LDAP/``), CERT files, ECS JSON lines, or records.
        policy: ``unanimous`` by default: every analyst must agree, at ``threshold`` 0.85.
        threshold: Confidence an outcome must reach (0-1).
        thresholds: ``InsiderThresholds`` for the detector.
        directory: The LDAP frame (``parsers.cert.read_ldap``); found in a CERT directory.
        action_sink: Where approved actions go (``graphs.approval.SqliteActionLog``).
        **run: The shared run options, see :class:`RunArgs`. Pass ``checkpointer`` as a
            SQLite path to keep pending approvals across restarts (approve them later with
            ``siem-consensus review``); they are kept in memory otherwise.

    Returns:
        The report; ``pending_approvals`` lists the alerts whose actions wait for a human.
    """
    from .graphs.insider import INSIDER_NODES

    source, directory = _insider_inputs(source, directory)
    factory = _factory("insider", thresholds, directory=directory)
    options = RunOptions(
        policy=get_policy(policy, threshold),
        names=INSIDER_NODES,
        approval=True,
        action_sink=action_sink,
        **run,
    )
    return run_triage(factory, InsiderReport, source, options)


def _factory(name: str, thresholds: Any, **options: Any) -> Callable[[], Detector]:
    """Builds a fresh detector ``name`` for each run, with ``thresholds`` (None: its defaults).

    Raises:
        ConfigError: no detector is registered as ``name``.
    """
    detector_cls = get_detector(name)

    def factory() -> Detector:
        return detector_cls(thresholds, **options)  # type: ignore[call-arg]

    return factory


def _insider_inputs(source: Any, directory: Any) -> tuple[Any, Any]:
    """Expand CERT directories into their event files, and read their LDAP snapshots."""
    from pathlib import Path

    single = isinstance(source, str | os.PathLike)
    paths = [source] if single else source
    if not isinstance(paths, list | tuple) or not any(
        isinstance(p, str | os.PathLike) and os.path.isdir(p) for p in paths
    ):
        return source, directory
    from .parsers.cert import cert_inputs, read_ldap

    files: list[Path] = []
    for path in paths:
        if not os.path.isdir(path):
            files.append(Path(path))
            continue
        found = cert_inputs(Path(path))
        files.extend(found.event_files)
        if directory is None and found.ldap is not None:
            directory = read_ldap(found.ldap)
    return files, directory
