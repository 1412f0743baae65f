"""Command line: ``siem-consensus firewall|ids|insider|review|export|demo|formats``.

Exit codes: 0 done, 2 usage or configuration error, 3 runtime failure (unreadable input,
provider, connector; also when a ``--to`` sink refused decisions, after the report is written).
Alerts do not change the exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from .errors import RuntimeFailure, UsageError
from .report import Report

__all__ = ["main"]

_FORMATS = ("table", "json", "markdown")
_CACHE = "~/.cache/siem-consensus/responses.sqlite"


def parse_budget(text: str) -> tuple[int | None, float | None]:
    """``200000``/``200000tok`` -> (tokens, None); ``$5``/``5usd`` -> (None, dollars)."""
    raw = text.strip().lower().replace("_", "").replace(",", "")
    try:
        if raw.startswith("$") or raw.endswith("usd"):
            return None, float(raw.strip("$").removesuffix("usd"))
        return int(raw.removesuffix("tok").removesuffix("tokens")), None
    except ValueError:
        raise UsageError(
            f"--budget {text!r} is neither tokens (200000 or 200000tok) nor dollars ($5 or 5usd)"
        ) from None


def _llm_settings(args: argparse.Namespace) -> Any:
    from .analysts.cache import ResponseCache
    from .analysts.costs import Budget
    from .analysts.llm.base import LLMSettings

    budget = None
    if args.budget:
        tokens, dollars = parse_budget(args.budget)
        budget = Budget(max_tokens=tokens, max_cost_usd=dollars)
    cache = None if args.no_cache else ResponseCache(Path(args.cache or _CACHE).expanduser())
    return LLMSettings(budget=budget, cache=cache)


class _Progress:
    """Single-line progress on stderr, redrawn at most 5 times a second."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.last = 0.0

    def __call__(self, lines: int, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.2:
            return
        self.last = now
        share = f" ({done / total:.0%})" if total else ""
        self.stream.write(f"\rread {lines:,} lines{share}")
        self.stream.flush()

    def close(self) -> None:
        if self.last:
            self.stream.write("\r\033[K")
            self.stream.flush()


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input-format", help="parser to use (default: detected per file)")
    p.add_argument("--format", choices=_FORMATS, default="table", help="output format")
    p.add_argument("--analysts", help="comma-separated analyst names (default: rules,baseline)")
    p.add_argument(
        "--policy",
        help="unanimous, majority or weighted (default: firewall unanimous, ids majority)",
    )
    p.add_argument("--threshold", type=float, default=0.8, help="confidence threshold (0-1)")
    p.add_argument("--members", metavar="CSV", help="write event_id,incident_id for members")
    p.add_argument("--dead-letters", metavar="JSONL", help="write every rejected line here")
    p.add_argument("--output", "-o", metavar="FILE", help="write the report here, not stdout")
    p.add_argument("--no-progress", action="store_true", help="never show progress")
    p.add_argument(
        "--budget",
        help="LLM budget for the run: tokens (200000 or 200000tok) or dollars ($5 or 5usd)",
    )
    p.add_argument("--cache", metavar="SQLITE", help=f"LLM response cache (default {_CACHE})")
    p.add_argument("--no-cache", action="store_true", help="do not use the LLM response cache")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="siem-consensus",
        description="Consensus-gated triage of security telemetry.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, command in _COMMANDS.items():
        p = sub.add_parser(name, help=command.help)
        p.add_argument("paths", nargs="*", metavar="PATH", help="input files ('-' for stdin)")
        p.add_argument("--thresholds", metavar="TOML", help=f"detector thresholds ([{name}])")
        _add_connectors(p)
        if name == "ids":
            p.add_argument("--inventory", metavar="FILE", help="asset inventory (CSV/JSON/TOML)")
            p.add_argument("--intel", metavar="FILE", nargs="+", help="threat-intel list files")
        if name == "insider":
            _add_approval_dbs(p)
        _add_common(p)
    review = sub.add_parser("review", help="list, approve or reject pending insider actions")
    review.add_argument("action", choices=("list", "approve", "reject"))
    review.add_argument("id", nargs="?", help="pending approval id (thread/incident)")
    review.add_argument(
        "--action",
        dest="approve",
        action="append",
        default=[],
        help="approve only this action (repeat; default: all of them)",
    )
    review.add_argument("--by", default=None, help="who decides (recorded; required to decide)")
    review.add_argument("--note", default="", help="reason, recorded with the decision")
    _add_approval_dbs(review)
    demo = sub.add_parser("demo", help="run the bundled examples offline")
    demo.add_argument("--example", type=int, choices=(1, 2, 3), help="run only this example")
    sub.add_parser("formats", help="list the input formats")
    export = sub.add_parser("export", help="convert a JSON report to ECS, OCSF, STIX or a report")
    export.add_argument("report", metavar="REPORT.json", help="a report written with --format json")
    export.add_argument(
        "--format", required=True, choices=("ecs", "ocsf", "stix", "markdown", "html")
    )
    export.add_argument("--output", "-o", metavar="FILE", help="write here, not stdout")
    return parser


def _emit(report: Report, fmt: str, output: str | None) -> None:
    from .render import render_markdown, render_table

    if fmt == "json":
        text = report.to_json()
    elif fmt == "markdown":
        text = render_markdown(report)
    else:
        text = render_table(report)
    if output:
        Path(output).write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
    else:
        sys.stdout.write(text + ("" if text.endswith("\n") else "\n"))


@dataclass(frozen=True)
class _Command:
    help: str
    entry: str  # function in siem_consensus.api
    thresholds: str  # module:class of the detector's thresholds model


_COMMANDS = {
    "firewall": _Command(
        "analyse firewall / connection logs",
        "analyze_firewall",
        "siem_consensus.detectors.firewall:FirewallThresholds",
    ),
    "ids": _Command(
        "correlate IDS alerts (Suricata, Snort, Wazuh, Splunk export, AIT-ADS)",
        "correlate_ids_alerts",
        "siem_consensus.detectors.ids:IdsThresholds",
    ),
    "insider": _Command(
        "detect insider threats (CERT format directory or files, ECS JSON lines)",
        "detect_insider_threats",
        "siem_consensus.detectors.insider:InsiderThresholds",
    ),
}
_RUNS_DB = "siem-consensus-runs.sqlite"
_ACTIONS_DB = "siem-consensus-actions.sqlite"


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
        default=_RUNS_DB,
        metavar="SQLITE",
        help=f"graph checkpoints, where approvals wait (default {_RUNS_DB})",
    )
    p.add_argument(
        "--actions-log",
        default=_ACTIONS_DB,
        metavar="SQLITE",
        help=f"approved actions, recorded once (default {_ACTIONS_DB})",
    )


def _thresholds(command: str, path: str | None) -> Any:
    """The detector's thresholds from a TOML file (top level or a [command] table)."""
    if path is None:
        return None
    import importlib
    import tomllib

    from pydantic import ValidationError

    module, cls = _COMMANDS[command].thresholds.split(":")
    model = getattr(importlib.import_module(module), cls)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        return model.model_validate(data.get(command, data))
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise UsageError(f"--thresholds {path}: {exc}") from None


def _extra(args: argparse.Namespace) -> dict[str, Any]:
    extra: dict[str, Any] = {"thresholds": _thresholds(args.command, args.thresholds)}
    if args.command == "ids":
        from .enrich.intel import ThreatIntel
        from .enrich.zones import AssetInventory

        if args.inventory:
            extra["inventory"] = AssetInventory.from_file(args.inventory)
        if args.intel:
            extra["intel"] = ThreatIntel.from_files(*args.intel)
    if args.command == "insider":
        from .graphs.approval import SqliteActionLog

        extra["checkpointer"] = args.checkpoint
        extra["action_sink"] = SqliteActionLog(args.actions_log)
        extra["thread_id"] = f"insider-{time.strftime('%Y%m%dT%H%M%S')}"
    if args.policy is not None:
        extra["policy"] = args.policy
    return extra


def _triage(args: argparse.Namespace) -> int:
    from . import api

    entry = getattr(api, _COMMANDS[args.command].entry)
    progress = None if args.no_progress or not sys.stderr.isatty() else _Progress(sys.stderr)
    settings = _llm_settings(args)
    connections = contextlib.ExitStack()
    try:
        source, sinks = _connections(args, connections)
        report = entry(
            source,
            sinks=sinks,
            input_format=args.input_format,
            analysts=args.analysts,
            threshold=args.threshold,
            members_path=args.members,
            dead_letter_path=args.dead_letters,
            progress=progress,
            llm_settings=settings,
            **_extra(args),
        )
    finally:
        connections.close()
        if progress is not None:
            progress.close()
        if settings.cache is not None:
            settings.cache.close()
    _emit(report, args.format, args.output)
    failed = 0
    for delivery in report.deliveries:
        failed += len(delivery.failures) + bool(delivery.error)
        print(
            f"{delivery.connector} {delivery.target or '(not reached)'}: "
            f"{delivery.created} created, {delivery.updated} updated, "
            f"{len(delivery.failures)} failed of {delivery.attempted}",
            file=sys.stderr,
        )
        if delivery.error:
            print(f"  {delivery.error}", file=sys.stderr)
        else:
            _print_failures(delivery.failures)
    for pending in report.pending_approvals:
        print(
            f"pending approval {pending['thread_id']}/{pending['incident_id']}: "
            f"{len(pending['actions'])} action(s); run: siem-consensus review list",
            file=sys.stderr,
        )
    return 3 if failed else 0


def _print_failures(failures: Sequence[Any], shown: int = 5) -> None:
    """A few refused decisions with the reason; one line when they share it (a sink down)."""
    reasons = {failure.reason for failure in failures}
    if len(failures) > 1 and len(reasons) == 1:
        print(f"  all {len(failures)}: {failures[0].reason}", file=sys.stderr)
        return
    for failure in failures[:shown]:
        print(f"  {failure.incident_id or failure.doc_id}: {failure.reason}", file=sys.stderr)
    if len(failures) > shown:
        print(f"  ... {len(failures) - shown} more in the report's deliveries", file=sys.stderr)


def _connections(args: argparse.Namespace, stack: contextlib.ExitStack) -> tuple[Any, list[Any]]:
    """The run's source (paths or a connector search) and its sinks, closed by ``stack``."""
    if args.from_ and args.paths:
        raise UsageError("give input PATHs or --from CONNECTION QUERY, not both")
    if not args.from_ and not args.paths:
        raise UsageError("no input: give PATHs ('-' for stdin) or --from CONNECTION QUERY")
    if not args.from_ and (args.start or args.end):
        raise UsageError("--start/--end bound a --from search; filter files before reading")
    source: Any = [Path(p) for p in args.paths]
    if not args.from_ and not args.to:
        return source, []
    from .connectors import load_connector_config

    start, end = _when(args.start, "--start"), _when(args.end, "--end")
    if start is not None and end is not None and start >= end:
        raise UsageError(f"--start ({start.isoformat()}) must be before --end ({end.isoformat()})")
    config = load_connector_config(args.connectors)
    opened: dict[str, Any] = {}  # one connector per connection, also when it is source and sink

    def connection(name: str) -> Any:
        if name not in opened:
            opened[name] = stack.enter_context(config.create(name))
        return opened[name]

    if args.from_:
        name, query = args.from_
        source = connection(name).search(_query(query), start=start, end=end)
    sinks = [connection(name) for name in dict.fromkeys(args.to)]  # --to X twice: written once
    return source, sinks


def _query(text: str) -> Any:
    """A JSON object is query DSL; '*' or '' is everything; anything else is passed as is."""
    text = text.strip()
    if text in ("", "*"):
        return None
    if text.startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--from QUERY looks like JSON but is not: {exc}") from None
    return text


def _when(text: str | None, option: str) -> datetime | None:
    """ISO 8601 (naive = UTC), 'now', or relative to now: -15m, -24h, -7d."""
    if text is None:
        return None
    now = datetime.now(UTC)
    relative = re.fullmatch(r"-(\d+)([smhd])", text.strip())
    if relative:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[relative[2]]
        return now - timedelta(**{unit: int(relative[1])})
    if text.strip() == "now":
        return now
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{option} {text!r}: give ISO 8601 (2024-05-01T00:00:00Z), 'now' or -15m/-24h/-7d"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _review(args: argparse.Namespace) -> int:
    from .graphs.approval import SqliteActionLog
    from .graphs.insider import build_insider_graph
    from .review import decide_approval, list_pending

    def build(saver: Any) -> Any:
        return build_insider_graph(
            checkpointer=saver, action_sink=SqliteActionLog(args.actions_log)
        )

    if args.action == "list":
        for item in list_pending(args.checkpoint, build):
            conf = "-" if item.confidence is None else f"{item.confidence:.2f}"
            print(
                f"{item.id}  users={','.join(item.users) or '-'}  confidence={conf}  {item.title}"
            )
            for n, action in enumerate(item.actions, 1):
                print(f"    {n}. {action}")
        return 0
    if not args.id or not args.by:
        raise UsageError("approve/reject need an approval id and --by NAME (see: review list)")
    approve: list[str] = []
    if args.action == "approve":
        pending = {p.id: p for p in list_pending(args.checkpoint, build)}
        approve = args.approve or (pending[args.id].actions if args.id in pending else [])
    final = decide_approval(
        args.checkpoint, build, args.id, approve=approve, by=args.by, note=args.note
    )
    for entry in final.get("actions_log", []):
        print(f"approved and recorded: {entry['action']} ({entry['incident_id']})")
    if not approve:
        print(f"rejected all actions of {args.id}; nothing recorded")
    return 0


def _export(args: argparse.Namespace) -> int:
    from .export import export_report

    text = export_report(args.report, args.format)
    text += "" if text.endswith("\n") else "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from . import examples

    for number, run in ((1, examples.example_1), (2, examples.example_2), (3, examples.example_3)):
        if args.example in (None, number):
            run()
    return 0


def _formats() -> int:
    from .parsers import PARSERS

    for name in sorted(PARSERS):
        print(f"{name:<14} {PARSERS[name].description}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``siem-consensus`` command."""
    args = _parser().parse_args(argv)
    try:
        if args.command in _COMMANDS:
            return _triage(args)
        if args.command == "review":
            return _review(args)
        if args.command == "export":
            return _export(args)
        if args.command == "demo":
            return _demo(args)
        return _formats()
    except UsageError as exc:
        print(f"siem-consensus: error: {exc}", file=sys.stderr)
        return 2
    except RuntimeFailure as exc:
        print(f"siem-consensus: failed: {exc}", file=sys.stderr)
        return 3


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
