"""Where the output goes and what it holds: paths checked before any work, ``-`` for stdout,
the four report formats, and the ``--min-severity`` / ``--only`` filters."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import RuntimeFailure, UsageError

if TYPE_CHECKING:
    from ..report import Report

__all__ = ["check_output", "filter_report", "render", "write_text"]

STDOUT = "-"


def check_output(path: str | None, option: str, *, stdout_ok: bool = True) -> None:
    """Fail now, before any work, when ``path`` cannot be written.

    Raises:
        UsageError: The folder is missing or not writable, the path is a folder or a file
            that cannot be written, or ``-`` where stdout is not allowed.
    """
    if path is None:
        return
    if path == STDOUT:
        if not stdout_ok:
            raise UsageError(f"{option} -: stdout carries the report; give a file name")
        return
    target = Path(path).expanduser()
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise UsageError(f"{option} {path}: is a folder; give a file name inside it")
    if not folder.is_dir():
        raise UsageError(f"{option} {path}: folder {str(folder)!r} does not exist")
    if target.exists() and not os.access(target, os.W_OK):
        raise UsageError(f"{option} {path}: file is not writable")
    if not target.exists() and not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: folder {str(folder)!r} is not writable")
    _probe(target, f"{option} {path}")


def _probe(target: Path, label: str) -> None:
    """Open the file for appending (nothing written; a file made here is removed again):
    permission bits say nothing to root, and nothing about read-only mounts or ``/proc``."""
    existed = target.exists()
    if existed and not target.is_file():
        return  # /dev/stdout, a named pipe: opening it could block or consume it
    try:
        with open(target, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise UsageError(f"{label}: cannot be written ({exc.strerror or exc})") from None
    if not existed:
        target.unlink(missing_ok=True)


def write_text(text: str, path: str | None) -> None:
    """``text`` (newline-terminated) to ``path``, or to stdout for None or ``-``."""
    text += "" if text.endswith("\n") else "\n"
    if path is None or path == STDOUT:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        Path(path).expanduser().write_text(text, encoding="utf-8")
    except OSError as exc:
        raise RuntimeFailure(f"cannot write {path}: {exc.strerror or exc}") from None


def render(report: Report, fmt: str) -> str:
    """The report as ``table``, ``markdown``, ``json`` or ``jsonl`` text."""
    if fmt == "json":
        return report.to_json()
    if fmt == "jsonl":
        return "".join(json.dumps(doc, sort_keys=True) + "\n" for doc in jsonl_documents(report))
    from ..render import render_markdown, render_table

    return render_markdown(report) if fmt == "markdown" else render_table(report)


def jsonl_documents(report: Report) -> list[dict[str, Any]]:
    """One ECS document per decision, with its incident's evidence event ids."""
    from ..export import to_ecs_documents

    documents = to_ecs_documents(report)
    for doc in documents:
        incident = report.incident(doc["siem_consensus"]["incident_id"])
        doc["siem_consensus"]["evidence_event_ids"] = list(incident.evidence_event_ids)
        doc["siem_consensus"]["severity"] = incident.severity.value
    return documents


def filter_report(report: Report, min_severity: str | None, only: str | None) -> Report:
    """The report without the incidents below ``min_severity`` or outside ``only`` outcomes."""
    if min_severity is None and only is None:
        return report
    from ..models import Outcome, Severity

    floor = Severity(min_severity).rank if min_severity else 0
    outcomes = set(parse_outcomes(only)) if only else set(Outcome)
    keep = {
        d.incident_id
        for d in report.decisions
        if d.outcome in outcomes and report.incident(d.incident_id).severity.rank >= floor
    }
    return report.model_copy(
        update={
            "incidents": tuple(i for i in report.incidents if i.id in keep),
            "decisions": tuple(d for d in report.decisions if d.incident_id in keep),
        }
    )


def parse_outcomes(text: str) -> list[Any]:
    """``alert,needs_review`` -> outcomes (``review`` is short for ``needs_review``)."""
    from ..models import Outcome

    names = {"review": "needs_review", "dismiss": "dismissed"}
    found = []
    for part in filter(None, (p.strip().lower() for p in text.split(","))):
        try:
            found.append(Outcome(names.get(part, part)))
        except ValueError:
            valid = ", ".join(o.value for o in Outcome)
            raise UsageError(f"--only {part!r}: valid outcomes are {valid}") from None
    return found
