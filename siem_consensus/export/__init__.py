"""Standard outputs of a report: ECS, OCSF, STIX 2.1, Markdown and HTML.

``export_report(path, fmt)`` is the one call the CLI needs. STIX needs the optional ``stix2``
library (``pip install "siem-consensus[export]"``); the other formats need nothing extra.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from ..errors import ConfigError, InputError
from ..report import AuthReport, FirewallReport, IdsReport, InsiderReport, Report
from .ecs import to_ecs_documents
from .html import to_html
from .markdown import to_markdown
from .ocsf import to_ocsf_findings
from .stix import to_stix_bundle

__all__ = [
    "EXPORT_FORMATS",
    "export_report",
    "load_report",
    "to_ecs_documents",
    "to_html",
    "to_markdown",
    "to_ocsf_findings",
    "to_stix_bundle",
]

_REPORTS: dict[str, type[Report]] = {
    "auth": AuthReport,
    "firewall": FirewallReport,
    "ids": IdsReport,
    "insider": InsiderReport,
}


def _ecs(report: Report) -> str:
    # NDJSON: one document per line, the shape bulk loaders read.
    return "".join(json.dumps(doc, sort_keys=True) + "\n" for doc in to_ecs_documents(report))


def _ocsf(report: Report) -> str:
    return json.dumps(to_ocsf_findings(report), indent=2, sort_keys=True) + "\n"


EXPORT_FORMATS: dict[str, Callable[[Report], str]] = {
    "ecs": _ecs,
    "html": to_html,
    "markdown": to_markdown,
    "ocsf": _ocsf,
    "stix": to_stix_bundle,
}
"""Format name -> function turning a report into text."""


def load_report(path: str | Path) -> Report:
    """Load a JSON report, choosing the report class by its ``detector`` field.

    Raises:
        InputError: The file cannot be read or is not a valid report.
        ConfigError: The ``detector`` field names no known report type.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read report {path}: {exc}") from exc
    detector = data.get("detector") if isinstance(data, dict) else None
    model = _REPORTS.get(str(detector))
    if model is None:
        raise ConfigError.unknown("report detector", str(detector), _REPORTS)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{path} is not a valid {detector} report: {exc}") from exc


def export_report(report_json_path: str | Path, fmt: str) -> str:
    """Load a JSON report and return it in ``fmt`` (ecs, ocsf, stix, markdown or html).

    ECS is NDJSON (one document per line); OCSF is a JSON array; STIX is a bundle.

    Raises:
        ConfigError: ``fmt`` is not one of :data:`EXPORT_FORMATS`.
        MissingDependencyError: ``fmt`` is stix and ``stix2`` is not installed.
    """
    exporter = EXPORT_FORMATS.get(fmt)
    if exporter is None:
        raise ConfigError.unknown("export format", fmt, EXPORT_FORMATS)
    return exporter(load_report(report_json_path))
