"""Self-contained HTML report: what was read, what was found, who judged it how, what was
decided and why, what to do, a timeline with a time axis, and each campaign's attack graph.

Inline CSS and SVG only: no script, no external asset, so the page opens offline and can be
mailed. Every string that may come from logs or analysts is escaped with :func:`html.escape`.
"""

from __future__ import annotations

from html import escape

from ..models import Decision, Incident, Verdict
from ..report import Report
from ._common import decided_incidents
from ._html_svg import attack_graph, duration, timeline

__all__ = ["to_html"]

_CSS = """body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;
max-width:1100px;color:#222;padding:0 1em}h1{margin-bottom:.2em}.sub{color:#555;margin-top:0}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:4px 8px;
vertical-align:top;text-align:left}th{background:#f4f4f4}.alert{color:#b00020}
.needs_review{color:#a65f00}.dismissed{color:#555}section.incident{border-top:2px solid #ddd;
margin-top:1.5em}.chain{font-weight:600}.chain span{background:#eef;padding:1px 6px;
border-radius:3px}.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;
font-size:.85em}.b-alert{background:#d32f2f}.b-needs_review{background:#f29900}
.b-dismissed{background:#9e9e9e}svg text{font-size:11px;fill:#222}svg text.host{font-weight:600}
svg text.role,svg text.tick{fill:#555}.legend span{margin-right:1.2em}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
code{font-size:.9em}.narrative{background:#fafafa;border-left:3px solid #999;padding:.4em .8em}"""


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _accounting(report: Report) -> str:
    s = report.input
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(fmt)}</td><td>"
        f"{escape(s.failures.get(name, 'read'))}</td></tr>"
        for name, fmt in s.formats.items()
    )
    rows += "".join(
        f"<tr><td>{escape(name)}</td><td>-</td><td>{escape(why)}</td></tr>"
        for name, why in s.failures.items()
        if name not in s.formats
    )
    return (
        "<h2>Input</h2><table><tr><th>lines</th><th>events</th><th>dead letters</th>"
        f"<th>skipped</th></tr><tr><td>{s.lines:,}</td><td>{s.events:,}</td>"
        f"<td>{s.dead_letters:,}</td><td>{s.skipped_lines:,}</td></tr></table>"
        f"<table><tr><th>input</th><th>format</th><th>read</th></tr>{rows}</table>"
    )


def _overview(pairs: list[tuple[Incident, Decision]]) -> str:
    rows = "".join(
        f'<tr><td><span class="badge b-{escape(d.outcome.value)}">{escape(d.outcome.value)}'
        f"</span></td><td>{escape(i.severity.value)}</td><td>"
        f"{'-' if d.confidence is None else f'{d.confidence:.2f}'}</td>"
        f'<td><a href="#{escape(i.id)}">{escape(i.title)}</a></td></tr>'
        for i, d in pairs
    )
    return (
        "<h2>Incidents</h2><table><tr><th>decision</th><th>severity</th><th>confidence</th>"
        f"<th>incident</th></tr>{rows}</table>"
    )


def _entities(inc: Incident) -> str:
    e = inc.entities
    rows = [
        (label, values)
        for label, values in (
            ("source addresses", e.source_ips),
            ("destination addresses", e.destination_ips),
            ("users", e.users),
            ("hosts", e.hosts),
        )
        if values
    ]
    cells = "".join(
        f"<tr><th>{label}</th><td>{escape(', '.join(values))}</td></tr>" for label, values in rows
    )
    return f"<table>{cells}</table>" if cells else ""


def _chain(inc: Incident) -> str:
    if not inc.attack:
        return "<p>ATT&amp;CK: -</p>"
    steps = " &rarr; ".join(
        f'<span title="{escape(a.technique_name)}">{escape(a.tactic)}: '
        f"{escape(a.technique_id)} {escape(a.technique_name)}</span>"
        for a in inc.attack
    )
    return f'<p class="chain">ATT&amp;CK chain: {steps}</p>'


def _verdict_cell(v: Verdict) -> str:
    if not v.counts:
        return escape(v.status.value + (f": {v.error}" if v.error else ""))
    threat = "threat" if v.is_threat else "no threat"
    return f"<b>{threat}</b> ({v.confidence:.0%})"


def _verdicts(dec: Decision) -> str:
    if not dec.verdicts:
        return ""
    heads = "".join(f"<th>{escape(v.analyst)}</th>" for v in dec.verdicts)
    aspects = (
        ("verdict", [_verdict_cell(v) for v in dec.verdicts]),
        ("what kind", [escape(v.category or "-") for v in dec.verdicts]),
        ("why", [escape(v.rationale or v.error or "-") for v in dec.verdicts]),
        ("attacker's goal", [escape(v.attacker_goal or "-") for v in dec.verdicts]),
        ("business impact", [escape(v.business_impact or "-") for v in dec.verdicts]),
    )
    rows = "".join(
        f"<tr><th>{label}</th>{''.join(f'<td>{c}</td>' for c in cells)}</tr>"
        for label, cells in aspects
    )
    return f"<h3>Each analyst, judging alone</h3><table><tr><th></th>{heads}</tr>{rows}</table>"


def _incident(inc: Incident, dec: Decision) -> str:
    outcome = escape(dec.outcome.value)
    conf = "-" if dec.confidence is None else f"{dec.confidence:.2f}"
    narrative = inc.stats.get("narrative")
    stages = inc.stats.get("stages") or []
    reasons = "".join(f"<li>{escape(r)}</li>" for r in dec.reasons)
    actions = "".join(f"<li>{escape(a)}</li>" for a in dec.recommended_actions)
    graph = attack_graph(inc) if len(stages) >= 2 or inc.kind == "campaign" else ""
    when = (
        f"{inc.first_seen:%Y-%m-%d %H:%M:%S} - {inc.last_seen:%H:%M:%S} UTC ({duration(inc)})"
        if inc.first_seen and inc.last_seen
        else "time unknown"
    )
    return (
        f'<section class="incident" id="{escape(inc.id)}">'
        f'<h2 class="{outcome}">{escape(inc.title)}</h2>'
        f'<p><span class="badge b-{outcome}">{outcome}</span> <code>{escape(inc.id)}</code> '
        f"severity <b>{escape(inc.severity.value)}</b>, detector score {inc.score:.2f}, "
        f"confidence {conf}{', <b>DEGRADED</b> (an analyst failed)' if dec.degraded else ''}; "
        f"{_plural(inc.event_count, 'event')}, {when}</p>"
        + (f'<p class="narrative">{escape(str(narrative))}</p>' if narrative else "")
        + _entities(inc)
        + _chain(inc)
        + (f"<p>Kill chain: {escape(' -> '.join(map(str, stages)))}</p>" if stages else "")
        + (f"<h3>Attack graph</h3>{graph}" if graph else "")
        + _verdicts(dec)
        + f"<h3>Decision: {outcome} ({escape(dec.policy)})</h3><ul>{reasons}</ul>"
        + (
            "<h3>Recommended actions (need human approval; nothing was executed)</h3>"
            f"<ol>{actions}</ol>"
            if actions
            else ""
        )
        + "<p>Evidence: "
        + escape(", ".join(inc.evidence_event_ids[:12]))
        + (" ..." if len(inc.evidence_event_ids) > 12 else "")
        + "</p></section>"
    )


def to_html(report: Report) -> str:
    """The report as one self-contained HTML page (no scripts, no external assets)."""
    pairs = list(decided_incidents(report))
    title = escape(f"siem-consensus {report.detector} report")
    made = f"{report.generated_at:%Y-%m-%d %H:%M UTC}, " if report.generated_at else ""
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<meta name="viewport" content="width=device-width"><style>{_CSS}</style></head>'
        f"<body><h1>{title}</h1>"
        f'<p class="sub">{made}policy {escape(report.policy)} at {report.threshold:.2f}; '
        f"analysts: {escape(', '.join(report.analysts))}; {_plural(len(pairs), 'decision')}.</p>"
        + _accounting(report)
        + _overview(pairs)
        + f"<h2>Timeline</h2>{timeline(pairs)}"
        + "".join(_incident(i, d) for i, d in pairs)
        + "</body></html>\n"
    )
