"""The detector commands: ``firewall``, ``ids`` and ``insider`` from files or a connector."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ._connections import check_inputs, connections
from ._diagnose import diagnose, parse_fail_on
from ._exit import INPUT, OK
from ._flags import parse_budget
from ._options import CACHE, COMMANDS
from ._output import check_output, filter_report, parse_outcomes, render, write_text
from ._progress import configure_logging, describe, limits, make_progress, zone

if TYPE_CHECKING:
    from ..report import Report

__all__ = ["parse_budget", "run_triage"]


def _llm_settings(args: argparse.Namespace) -> Any:
    from ..analysts.cache import ResponseCache
    from ..analysts.costs import Budget
    from ..analysts.llm.base import LLMSettings

    budget = None
    if args.budget:
        tokens, dollars = parse_budget(args.budget)
        budget = Budget(max_tokens=tokens, max_cost_usd=dollars)
    cache = None if args.no_cache else ResponseCache(Path(args.cache or CACHE).expanduser())
    return LLMSettings(budget=budget, cache=cache)


def _thresholds(command: str, path: str | None) -> Any:
    """The detector's thresholds from a TOML file (top level or a [command] table)."""
    if path is None:
        return None
    import importlib
    import tomllib

    from pydantic import ValidationError

    module, cls = COMMANDS[command].thresholds.split(":")
    model = getattr(importlib.import_module(module), cls)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        return model.model_validate(data.get(command, data))
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise UsageError(f"--thresholds {path}: {exc}") from None


def _extra(args: argparse.Namespace) -> dict[str, Any]:
    extra: dict[str, Any] = {"thresholds": _thresholds(args.command, args.thresholds)}
    if args.command == "ids":
        from ..enrich.intel import ThreatIntel
        from ..enrich.zones import AssetInventory

        if args.inventory:
            extra["inventory"] = AssetInventory.from_file(args.inventory)
        if args.intel:
            extra["intel"] = ThreatIntel.from_files(*args.intel)
    if args.command == "insider":
        from ..graphs.approval import SqliteActionLog

        extra["checkpointer"] = args.checkpoint
        extra["action_sink"] = SqliteActionLog(args.actions_log)
        extra["thread_id"] = f"insider-{time.strftime('%Y%m%dT%H%M%S')}"
    if args.analyst_timeout is not None:
        extra["analyst_timeout"] = args.analyst_timeout
    if args.policy is not None:
        extra["policy"] = args.policy
    if args.threshold is not None:
        extra["threshold"] = args.threshold
    return extra


def run_triage(args: argparse.Namespace) -> int:
    """Check every flag and output path, run the detector, write the report, return the code."""
    fail_on = parse_fail_on(args.fail_on)
    if args.only:
        parse_outcomes(args.only)
    if args.budget:
        parse_budget(args.budget)
    zone(args.timezone)
    check_output(args.output, "--output")
    check_output(args.members, "--members", stdout_ok=False)
    check_output(args.dead_letters, "--dead-letters", stdout_ok=False)
    check_inputs(args)
    configure_logging(args.log_level)
    progress = make_progress(sys.stderr, enabled=not (args.no_progress or args.quiet))
    settings = _llm_settings(args)
    extra = _extra(args)
    stack = contextlib.ExitStack()
    try:
        source, sinks = connections(args, stack)
        # Imported last: the API loads LangGraph (~1.5 s of CPU), which a run refused above
        # (bad thresholds, connector settings) never needs.
        from .. import api

        entry = getattr(api, COMMANDS[args.command].entry)
        report = entry(
            source,
            sinks=sinks,
            input_format=args.input_format,
            analysts=args.analysts,
            members_path=args.members,
            dead_letter_path=args.dead_letters,
            progress=progress,
            llm_settings=settings,
            limits=limits(args),
            timezone=args.timezone,
            **extra,
        )
    finally:
        stack.close()
        if progress is not None:
            progress.close()
        if settings.cache is not None:
            settings.cache.close()
    shown = filter_report(report, args.min_severity, args.only)
    write_text(render(shown, args.format), args.output)
    code = diagnose(report, args.command, fail_on, quiet=args.quiet, paths=args.paths or ())
    if args.verbose:
        describe(report)
    return max(code, _deliveries(report))


def _deliveries(report: Report) -> int:
    """Say what each sink did and what waits for approval; 3 when a sink refused any."""
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
    return INPUT if failed else OK


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
