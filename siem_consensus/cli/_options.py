"""The command line's options: one parser, the commands and their shared flags."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from ..defaults import DECISION_DEFAULTS
from ._flags import CACHE, add_run_flags, add_version, epilog
from ._stream import add_stream_parser

__all__ = ["ACTIONS_DB", "CACHE", "COMMANDS", "FORMATS", "RUNS_DB", "Command", "build_parser"]


@dataclass(frozen=True)
class Command:
    help: str
    entry: str  # function in siem_consensus.api
    thresholds: str  # module:class of the detector's thresholds model


COMMANDS = {
    "auth": Command(
        "find password guessing and logins after it (sshd auth.log, Zeek ssh.log, ECS)",
        "analyze_auth",
        "siem_consensus.detectors.auth:AuthThresholds",
    ),
    "firewall": Command(
        "analyse firewall / connection logs",
        "analyze_firewall",
        "siem_consensus.detectors.firewall:FirewallThresholds",
    ),
    "ids": Command(
        "correlate IDS alerts (Suricata, Snort, Wazuh, Splunk export, AIT-ADS)",
        "correlate_ids_alerts",
        "siem_consensus.detectors.ids:IdsThresholds",
    ),
    "insider": Command(
        "detect insider threats (CERT format directory or files, ECS JSON lines)",
        "detect_insider_threats",
        "siem_consensus.detectors.insider:InsiderThresholds",
    ),
}
RUNS_DB = "siem-consensus-runs.sqlite"
ACTIONS_DB = "siem-consensus-actions.sqlite"


FORMATS = ("table", "json", "jsonl", "markdown")


def _add_connectors(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("SIEM connectors (connections from --connectors FILE)")
    group.add_argument(
        "--from",
        dest="from_",
        nargs=2,
        metavar=("CONNECTION", "QUERY"),
        help="read events from a configured connection (splunk, elasticsearch, opensearch, "
        "kafka) instead of files; QUERY is the SIEM's query language ('*' for everything), "
        "or a JSON query DSL object for elasticsearch/opensearch",
    )
    group.add_argument(
        "--start", metavar="TIME", help="with --from: from TIME (ISO 8601, now, --start=-24h)"
    )
    group.add_argument("--end", metavar="TIME", help="with --from: until TIME (exclusive)")
    group.add_argument(
        "--to",
        action="append",
        default=[],
        metavar="CONNECTION",
        help="write the decisions to a configured connection (repeatable)",
    )
    group.add_argument(
        "--connectors",
        metavar="TOML",
        help="connection settings (default $SIEM_CONSENSUS_CONNECTORS or ./siem-consensus.toml)",
    )


def _add_approval_dbs(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--checkpoint",
        default=RUNS_DB,
        metavar="SQLITE",
        help=f"graph checkpoints, where approvals wait (default {RUNS_DB})",
    )
    p.add_argument(
        "--actions-log",
        default=ACTIONS_DB,
        metavar="SQLITE",
        help=f"approved actions, recorded once (default {ACTIONS_DB})",
    )


def _add_common(p: argparse.ArgumentParser, command: str) -> None:
    defaults = DECISION_DEFAULTS[command]
    p.add_argument("--input-format", help="parser to use (default: detected per file)")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format")
    p.add_argument("--analysts", help="comma-separated analyst names (default: rules,baseline)")
    p.add_argument("--policy", help=f"unanimous, majority or weighted (default: {defaults.policy})")
    p.add_argument(
        "--threshold",
        type=float,
        help=f"confidence threshold 0-1 (default: {defaults.threshold:g})",
    )
    p.add_argument("--members", metavar="CSV", help="write event_id,incident_id for members")
    p.add_argument("--dead-letters", metavar="JSONL", help="write every rejected line here")
    p.add_argument("--output", "-o", metavar="FILE", help="write the report here ('-': stdout)")
    p.add_argument("--no-progress", action="store_true", help="never show progress")
    p.add_argument(
        "--budget",
        help="LLM budget for the run: tokens (200000 or 200000tok) or dollars ($5 or 5usd)",
    )
    p.add_argument(
        "--analyst-timeout",
        type=_seconds,
        metavar="SECONDS",
        help="seconds an analyst call may take once sent (LLM analysts: each HTTP attempt, "
        "not counting the wait for a provider slot; default 60 for LLM analysts, 120 for others)",
    )
    p.add_argument("--cache", metavar="SQLITE", help=f"LLM response cache (default {CACHE})")
    p.add_argument("--no-cache", action="store_true", help="do not use the LLM response cache")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: a timeout is a positive number of seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="siem-consensus",
        description="Consensus-gated triage of security telemetry.",
        epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_version(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, command in COMMANDS.items():
        p = sub.add_parser(
            name,
            help=command.help,
            epilog=epilog(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument(
            "paths",
            nargs="*",
            metavar="PATH",
            help="input files, folders (read recursively) or globs; '-' for stdin",
        )
        p.add_argument("--thresholds", metavar="TOML", help=f"detector thresholds ([{name}])")
        _add_connectors(p)
        if name == "ids":
            p.add_argument("--inventory", metavar="FILE", help="asset inventory (CSV/JSON/TOML)")
            p.add_argument("--intel", metavar="FILE", nargs="+", help="threat-intel list files")
        if name == "insider":
            _add_approval_dbs(p)
        _add_common(p, name)
        add_run_flags(p)
    review = sub.add_parser("review", help="list, approve or reject pending insider actions")
    review.add_argument("action", choices=("list", "approve", "reject"))
    review.add_argument("id", nargs="?", help="pending approval id (thread/incident)")
    review.add_argument(
        "--action",
        dest="approve",
        action="append",
        default=[],
        help="approve only this action, its exact text from 'review list' (repeat; default: all)",
    )
    review.add_argument("--by", default=None, help="who decides (recorded; required to decide)")
    review.add_argument("--note", default="", help="reason, recorded with the decision")
    _add_approval_dbs(review)
    demo = sub.add_parser("demo", help="run the bundled examples offline")
    demo.add_argument("--example", type=int, choices=(1, 2, 3, 4), help="run only this example")
    sub.add_parser("formats", help="list the input formats")
    cache = sub.add_parser("cache", help="show or empty the LLM response cache")
    cache.add_argument("action", choices=("stats", "clear"))
    cache.add_argument("--cache", metavar="SQLITE", help=f"cache file (default {CACHE})")
    cache.add_argument("--expired", action="store_true", help="clear only expired entries")
    cache.add_argument("--ttl-days", type=float, help="entry lifetime (default 3 days)")
    add_stream_parser(sub)
    export = sub.add_parser("export", help="convert a JSON report to ECS, OCSF, STIX or a report")
    export.add_argument("report", metavar="REPORT.json", help="a report written with --format json")
    export.add_argument(
        "--format", required=True, choices=("ecs", "ocsf", "stix", "markdown", "html")
    )
    export.add_argument("--output", "-o", metavar="FILE", help="write here ('-': stdout)")
    return parser
