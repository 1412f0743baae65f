"""Authentication detector evaluation on real SSH logs: loghub OpenSSH and Stratosphere Zeek.

Run: ``python -m siem_consensus.evaluation.auth [--data ../shared/data] [--json OUT]
[--no-pool]``

Data (read in place, never copied):

* ``loghub-openssh/OpenSSH_2k.log``: 2,000 sshd lines of an internet-exposed lab server
  (loghub, Zhu et al., ISSRE 2023). Labels are the template ids of
  ``OpenSSH_2k.log_structured.csv``: a line is a *guessing attempt* when its template is E8
  (``Failed none for invalid user``), E9/E10 (``Failed password``, for an invalid user), E13
  (``Invalid user``) or E14 (``message repeated N times: [ Failed password ...]``); a source
  address is *hostile* when it has at least one such line. E27 (``POSSIBLE BREAK-IN
  ATTEMPT``, a failed reverse DNS lookup) is reported separately: it is a hint, not an attempt.
* ``stratosphere/004-zeek-scenario-ssh/ssh.log`` (Zeek JSON, clients of a test network) and
  ``stratosphere/006-zeek-scenario-ssh/ssh.log`` (Zeek TSV, a Raspberry Pi honeypot), from the
  Stratosphere Laboratory, CTU Prague (GPL-2.0). They carry no labels: a source is counted as
  *failing* when Zeek saw it fail (``auth_success`` false).

Each file runs through :func:`~siem_consensus.analyze_auth` with the default embedded analysts
(``rules``, ``baseline``) and policy (unanimous, 0.8), membership written to a temporary CSV.
Reported per data set: events, attempts, incidents by kind and severity, decisions (alert,
needs_review, dismissed, degraded; an analyst verdict with status ``error`` is counted too),
incidents and reviews per day of log, and per-source recall (hostile or failing sources that
are members of an incident, any severity and medium or above); for loghub also line-level
recall of the labelled attempts and the false positive sources.
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl

from ..api import analyze_auth
from ..detectors.auth import AuthThresholds
from ..models import Severity, VerdictStatus
from ..report import AuthReport
from ..sources import EventStream

__all__ = ["ATTEMPT_TEMPLATES", "DEFAULT_DATA", "evaluate", "evaluate_file", "main"]

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
ATTEMPT_TEMPLATES = frozenset({"E8", "E9", "E10", "E13", "E14"})
"""loghub template ids of guessing attempts (failed logins and invalid-user probes)."""

_SETS = {
    "loghub-openssh": ("loghub-openssh/OpenSSH_2k.log", "openssh"),
    "stratosphere-004": ("stratosphere/004-zeek-scenario-ssh/ssh.log", "zeek-ssh-json"),
    "stratosphere-006": ("stratosphere/006-zeek-scenario-ssh/ssh.log", "zeek-ssh"),
}


def _events(path: Path, fmt: str) -> pl.DataFrame:
    frames = [frame for _, frame in EventStream([path], input_format=fmt)]
    return pl.concat(frames) if frames else pl.DataFrame()


def _members(path: Path) -> dict[str, set[str]]:
    """event id -> incident ids, from a members CSV."""
    found: dict[str, set[str]] = {}
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            found.setdefault(row["event_id"], set()).add(row["incident_id"])
    return found


def _decisions(report: AuthReport) -> dict[str, int]:
    counts = Counter(d.outcome.value for d in report.decisions)
    errors = sum(v.status is VerdictStatus.ERROR for d in report.decisions for v in d.verdicts)
    return {
        "alert": counts["alert"],
        "needs_review": counts["needs_review"],
        "dismissed": counts["dismissed"],
        "degraded": sum(d.degraded for d in report.decisions),
        "analyst_errors": errors,
    }


def _days(events: pl.DataFrame) -> float:
    """Calendar days (UTC) the log covers (at least one)."""
    stamps = events["timestamp"].drop_nulls()
    return float(max(1, stamps.dt.date().n_unique())) if stamps.len() else 1.0


def _recall(wanted: set[str], flagged: set[str]) -> dict[str, Any]:
    hit = wanted & flagged
    return {
        "sources": len(wanted),
        "flagged": len(hit),
        "recall": round(len(hit) / len(wanted), 4) if wanted else None,
        "missed": sorted(wanted - flagged)[:20],
    }


def evaluate_file(
    path: Path, fmt: str, labels: dict[int, str] | None = None, *, pool: bool = True
) -> dict[str, Any]:
    """Run ``analyze_auth`` on one file and score it (see the module docstring).

    Args:
        path: The log file.
        fmt: Its parser name.
        labels: loghub template id per line number, when the file has them.
        pool: ``AuthThresholds.pool_background`` (off: one incident per finding).
    """
    events = _events(path, fmt)
    thresholds = AuthThresholds(pool_background=pool)
    with tempfile.TemporaryDirectory(prefix="siem-consensus-eval-auth-") as tmp:
        members_csv = Path(tmp) / "members.csv"
        report = analyze_auth(
            path, input_format=fmt, members_path=members_csv, thresholds=thresholds
        )
        members = _members(members_csv)
    severity = {i.id: i.severity for i in report.incidents}
    medium = {i.id for i in report.incidents if i.severity.rank >= Severity.MEDIUM.rank}
    ids = pl.format("{}:{}", pl.lit(path.name), pl.col("line"))
    events = events.with_columns(ids.alias("event_id"))
    member_ids = set(members)
    medium_ids = {e for e, incs in members.items() if incs & medium}
    outcome = pl.col("event_outcome")
    failing = set(events.filter(outcome == "failure")["source_ip"].drop_nulls().to_list())
    flagged = set(events.filter(pl.col("event_id").is_in(member_ids))["source_ip"].drop_nulls())
    flagged_medium = set(
        events.filter(pl.col("event_id").is_in(medium_ids))["source_ip"].drop_nulls()
    )
    days = _days(events)
    decisions = _decisions(report)
    result: dict[str, Any] = {
        "file": str(path),
        "format": fmt,
        "events": report.input.events,
        "dead_letters": report.input.dead_letters,
        "attempts": int(events.filter(outcome.is_not_null()).height),
        "failing_sources": len(failing),
        "days": days,
        "incidents": len(report.incidents),
        "incidents_per_day": round(len(report.incidents) / days, 2),
        "reviews_per_day": round(decisions["needs_review"] / days, 2),
        "by_kind": dict(Counter(i.kind for i in report.incidents)),
        "by_severity": dict(Counter(s.value for s in severity.values())),
        "decisions": decisions,
        "failing_source_recall": _recall(failing, flagged),
        "failing_source_recall_medium": _recall(failing, flagged_medium),
        "titles": [
            f"[{report.decision_for(i.id).outcome.value}] {i.severity.value} {i.title}"
            for i in report.incidents
        ],
    }
    if labels is not None:
        result["labels"] = _labelled(events, labels, member_ids, flagged, flagged_medium)
    return result


def _labelled(
    events: pl.DataFrame,
    labels: dict[int, str],
    members: set[str],
    flagged: set[str],
    flagged_medium: set[str],
) -> dict[str, Any]:
    """Scores against loghub's template ids."""
    tagged = events.with_columns(
        pl.col("line").replace_strict(labels, default=None, return_dtype=pl.String).alias("tpl")
    )
    attempts = tagged.filter(pl.col("tpl").is_in(sorted(ATTEMPT_TEMPLATES)))
    hostile = set(attempts["source_ip"].drop_nulls().to_list())
    everyone = set(tagged["source_ip"].drop_nulls().to_list())
    inside = attempts.filter(pl.col("event_id").is_in(members)).height
    break_in = set(tagged.filter(pl.col("tpl") == "E27")["source_ip"].drop_nulls().to_list())
    return {
        "attempt_lines": attempts.height,
        "attempt_lines_in_incidents": inside,
        "line_recall": round(inside / attempts.height, 4) if attempts.height else None,
        "hostile_source_recall": _recall(hostile, flagged),
        "hostile_source_recall_medium": _recall(hostile, flagged_medium),
        "false_positive_sources": sorted(flagged - hostile),
        "benign_sources": len(everyone - hostile),
        "break_in_hint_sources": len(break_in),
        "break_in_hint_sources_flagged": len(break_in & flagged),
    }


def _loghub_labels(data: Path) -> dict[int, str]:
    path = data / "loghub-openssh" / "OpenSSH_2k.log_structured.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        return {int(row["LineId"]): row["EventId"] for row in csv.DictReader(fh)}


def evaluate(data: Path = DEFAULT_DATA, *, pool: bool = True) -> dict[str, Any]:
    """Every available data set under ``data``; absent ones are listed under ``missing``."""
    results: dict[str, Any] = {"missing": []}
    for name, (relative, fmt) in _SETS.items():
        path = data / relative
        if not path.is_file():
            results["missing"].append(str(path))
            continue
        labels = _loghub_labels(data) if name == "loghub-openssh" else None
        results[name] = evaluate_file(path, fmt, labels, pool=pool)
    return results


def _print(results: dict[str, Any]) -> None:
    for name, result in results.items():
        if name == "missing":
            continue
        print(
            f"== {name}: {result['events']:,} events, {result['attempts']:,} attempts, "
            f"{result['days']:g} day(s)"
        )
        print(
            f"   incidents {result['incidents']} ({result['incidents_per_day']}/day): "
            f"{result['by_kind']} {result['by_severity']}"
        )
        print(f"   decisions {result['decisions']}, reviews/day {result['reviews_per_day']}")
        recall = result["failing_source_recall"]
        print(f"   sources with a failure flagged: {recall['flagged']}/{recall['sources']}")
        labels = result.get("labels")
        if labels:
            hostile, medium = (
                labels["hostile_source_recall"],
                labels["hostile_source_recall_medium"],
            )
            print(
                f"   hostile sources flagged: {hostile['flagged']}/{hostile['sources']} "
                f"(medium+: {medium['flagged']}); attempt lines in incidents: "
                f"{labels['attempt_lines_in_incidents']}/{labels['attempt_lines']}; "
                f"false positive sources: {labels['false_positive_sources']}"
            )
        for title in result["titles"]:
            print(f"     {title}")
    for path in results["missing"]:
        print(f"(absent: {path})")


def main(argv: list[str] | None = None) -> int:
    """Command line: print the figures, optionally write them as JSON."""
    parser = argparse.ArgumentParser(prog="python -m siem_consensus.evaluation.auth")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--no-pool", action="store_true", help="one incident per finding (pool_background off)"
    )
    args = parser.parse_args(argv)
    results = evaluate(args.data, pool=not args.no_pool)
    _print(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
