"""Self-contained HTML report: inline CSS, an inline SVG incident timeline, and the
per-analyst verdicts side by side. No scripts, no external assets; every string that may come
from logs or analysts is escaped with :func:`html.escape`.
"""

from __future__ import annotations

from html import escape

from ..models import Decision, Incident, Verdict
from ..report import Report
from ._common import decided_incidents

__all__ = ["to_html"]

_CSS = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:4px 8px;
vertical-align:top;text-align:left}.alert{color:#b00020}.needs_review{color:#b26a00}
.dismissed{color:#555}svg text{font-size:11px}"""
_COLORS = {"alert": "#d32f2f", "needs_review": "#f9a825", "dismissed": "#9e9e9e"}
_WIDTH, _ROW = 700, 18


def _timeline(pairs: list[tuple[Incident, Decision]]) -> str:
    timed = [(i, d) for i, d in pairs if i.first_seen and i.last_seen]
    if not timed:
        return "<p>No incident has a time range.</p>"
    start = min(i.first_seen.timestamp() for i, _ in timed if i.first_seen)
    end = max(i.last_seen.timestamp() for i, _ in timed if i.last_seen)
    span = max(end - start, 1.0)
    bars = []
    for row, (inc, dec) in enumerate(timed):
        assert inc.first_seen is not None and inc.last_seen is not None
        x = 200 + (inc.first_seen.timestamp() - start) / span * (_WIDTH - 200)
        w = max((inc.last_seen.timestamp() - inc.first_seen.timestamp()) / span * (_WIDTH - 200), 2)
        y = row * _ROW
        bars.append(
            f'<text x="0" y="{y + 12}">{escape(inc.id)}</text>'
            f'<rect x="{x:.1f}" y="{y + 2}" width="{w:.1f}" height="{_ROW - 4}" '
            f'fill="{_COLORS[dec.outcome.value]}"><title>{escape(inc.title)}</title></rect>'
        )
    height = len(timed) * _ROW
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
        f'role="img" aria-label="incident timeline">{"".join(bars)}</svg>'
    )


def _cell(v: Verdict) -> str:
    if not v.counts:
        return escape(v.status.value + (f": {v.error}" if v.error else ""))
    threat = "threat" if v.is_threat else "no threat"
    return (
        f"<b>{threat}</b> ({v.confidence:.0%})<br>{escape(v.category or '-')}"
        f"<br>{escape(v.rationale)}"
    )


def _incident(inc: Incident, dec: Decision) -> str:
    outcome = escape(dec.outcome.value)
    conf = "-" if dec.confidence is None else f"{dec.confidence:.2f}"
    attack = ", ".join(escape(f"{a.technique_id} {a.technique_name}") for a in inc.attack)
    heads = "".join(f"<th>{escape(v.analyst)}</th>" for v in dec.verdicts)
    cells = "".join(f"<td>{_cell(v)}</td>" for v in dec.verdicts)
    reasons = "".join(f"<li>{escape(r)}</li>" for r in dec.reasons)
    return (
        f'<section><h2 class="{outcome}">[{outcome}] {escape(inc.title)}</h2>'
        f"<p><code>{escape(inc.id)}</code> severity {escape(inc.severity.value)}, "
        f"score {inc.score:.2f}, confidence {conf}"
        f"{', DEGRADED' if dec.degraded else ''}; ATT&amp;CK: {attack or '-'}</p>"
        f"<ul>{reasons}</ul><table><tr>{heads}</tr><tr>{cells}</tr></table></section>"
    )


def to_html(report: Report) -> str:
    """The report as one self-contained HTML page (no scripts, no external assets)."""
    pairs = list(decided_incidents(report))
    title = escape(f"siem-consensus {report.detector} report")
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{_CSS}</style></head><body><h1>{title}</h1>"
        f"<p>Policy {escape(report.policy)} at {report.threshold:.2f}; analysts: "
        f"{escape(', '.join(report.analysts))}; {len(pairs)} decisions.</p>"
        f"<h2>Timeline</h2>{_timeline(pairs)}"
        + "".join(_incident(i, d) for i, d in pairs)
        + "</body></html>\n"
    )
