"""Markdown export: the standard Markdown rendering of a report."""

from __future__ import annotations

from ..render import render_markdown
from ..report import Report

__all__ = ["to_markdown"]


def to_markdown(report: Report) -> str:
    """The report as Markdown (same text as :func:`siem_consensus.render.render_markdown`)."""
    return render_markdown(report)
