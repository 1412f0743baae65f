"""Human renderings of a report: terminal table, Markdown, and the side-by-side comparison."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence

from .models import Decision, Incident, Verdict, VerdictStatus
from .report import Report

__all__ = ["render_comparison", "render_incident_report", "render_markdown", "render_table"]

_MARK = {"alert": "ALERT", "needs_review": "REVIEW", "dismissed": "DISMISSED"}


def _input_line(report: Report) -> str:
    s = report.input
    formats = ", ".join(f"{k}: {v}" for k, v in s.formats.items()) or "none"
    return (
        f"Input: {s.lines:,} lines -> {s.events:,} events, {s.dead_letters:,} dead letters, "
        f"{s.skipped_lines:,} skipped  [{formats}]"
    )


def _summary(report: Report) -> list[str]:
    counts = {k: len(report.by_outcome(k)) for k in ("alert", "needs_review", "dismissed")}
    return [
        f"siem-consensus {report.detector} report (schema {report.schema_version})",
        _input_line(report),
        f"Analysts: {', '.join(report.analysts)} ({report.analysts_note})",
        f"Policy: {report.policy} at threshold {report.threshold:.2f}",
        f"Incidents: {len(report.incidents)}  alert {counts['alert']} | "
        f"needs_review {counts['needs_review']} | dismissed {counts['dismissed']}",
    ]


def _when(incident: Incident) -> str:
    if incident.first_seen is None or incident.last_seen is None:
        return "time unknown"
    return f"{incident.first_seen:%Y-%m-%d %H:%M:%S} - {incident.last_seen:%H:%M:%S} UTC"


def _verdict_cells(v: Verdict) -> tuple[str, str, str, str]:
    if v.status is VerdictStatus.ERROR:
        return "FAILED", "-", "-", v.error or ""
    if not v.counts:
        return v.status.value, "-", "-", "; ".join(v.problems) or v.rationale
    threat = "yes" if v.is_threat else "no"
    return threat, f"{v.confidence:.2f}", v.category or "-", v.rationale


def _incident_block(incident: Incident, decision: Decision | None) -> list[str]:
    attack = ", ".join(f"{a.technique_id} {a.technique_name} ({a.tactic})" for a in incident.attack)
    out = [
        f"[{_MARK.get(decision.outcome.value, '?') if decision else 'UNDECIDED'}] {incident.id}  "
        f"{incident.severity.value.upper()}  score {incident.score:.2f}  {incident.title}",
        f"  when: {_when(incident)}   events: {incident.event_count:,}",
        f"  ATT&CK: {attack or '-'}",
    ]
    if decision is None:
        return out
    conf = "-" if decision.confidence is None else f"{decision.confidence:.2f}"
    out.append(
        f"  decision: {decision.outcome.value}  confidence {conf}  "
        f"degraded: {'YES' if decision.degraded else 'no'}"
    )
    out += [f"  - {r}" for r in decision.reasons]
    if len(decision.verdicts) >= 2:  # the analysts side by side, nothing cut
        out += ["  Side by side (each analyst judged alone):"]
        out += [f"    {line}" for line in render_comparison(decision.verdicts).splitlines()]
    for v in decision.verdicts if len(decision.verdicts) < 2 else ():
        threat, conf_v, cat, why = _verdict_cells(v)
        short = textwrap.shorten(why, 90, placeholder=" ...") if why else ""
        out.append(f"  {v.analyst:<10} {threat:<10} {conf_v:<5} {cat:<20} {short}")
    if decision.recommended_actions:
        out.append("  recommended (not executed without human approval):")
        out += [f"    {n}. {a}" for n, a in enumerate(decision.recommended_actions, 1)]
    return out


def render_table(report: Report) -> str:
    """Plain-text report for terminals."""
    lines = _summary(report)
    decisions = {d.incident_id: d for d in report.decisions}
    for incident in report.incidents:
        lines += ["", *_incident_block(incident, decisions.get(incident.id))]
    if report.dead_letters:
        shown = min(len(report.dead_letters), 20)
        lines += [
            "",
            f"Dead letters ({shown:,} of {report.input.dead_letters:,} shown; "
            "all of them with --dead-letters FILE):",
        ]
        lines += [f"  {d.source}:{d.line}: {d.reason}" for d in report.dead_letters[:shown]]
    return "\n".join(lines)


def render_markdown(report: Report) -> str:
    """Markdown report (tables for incidents and per-analyst verdicts)."""
    title = _TITLES.get(report.detector, report.detector.title())
    lines = [f"# {title} report", "", *(f"- {x}" for x in _summary(report)[1:])]
    lines += ["", "| outcome | incident | severity | confidence | title |", "|---|---|---|---|---|"]
    decisions = {d.incident_id: d for d in report.decisions}
    for inc in report.incidents:
        d = decisions.get(inc.id)
        conf = "-" if d is None or d.confidence is None else f"{d.confidence:.2f}"
        outcome = d.outcome.value if d else "undecided"
        lines.append(f"| {outcome} | `{inc.id}` | {inc.severity.value} | {conf} | {inc.title} |")
    for inc in report.incidents:
        d = decisions.get(inc.id)
        if d is None:
            continue
        lines += ["", f"## {inc.title}", "", *(f"- {r}" for r in d.reasons), ""]
        lines += _markdown_comparison(d.verdicts)
    return "\n".join(lines) + "\n"


_TITLES = {"ids": "IDS", "firewall": "Firewall", "insider": "Insider-threat"}


def _aspects(verdicts: Sequence[Verdict]) -> list[tuple[str, list[str]]]:
    """Each aspect of the verdicts, one cell per analyst, nothing cut."""
    return [
        ("Threat detected", [_verdict_cells(v)[0] for v in verdicts]),
        ("What kind", [v.category or "-" for v in verdicts]),
        ("Attacker's goal", [v.attacker_goal or "-" for v in verdicts]),
        ("Business impact", [v.business_impact or "-" for v in verdicts]),
        ("Why", [v.rationale or v.error or "-" for v in verdicts]),
        ("Confidence", [f"{v.confidence:.0%}" if v.counts else "-" for v in verdicts]),
        (
            "Recommended",
            [v.recommended_actions[0] if v.recommended_actions else "-" for v in verdicts],
        ),
    ]


def _markdown_comparison(verdicts: Sequence[Verdict]) -> list[str]:
    """The analysts side by side as a Markdown table: one column per analyst."""
    if not verdicts:
        return []
    lines = [
        "| aspect | " + " | ".join(v.analyst for v in verdicts) + " |",
        "|---|" + "---|" * len(verdicts),
    ]
    for label, cells in _aspects(verdicts):
        text = " | ".join(c.replace("|", "/").replace("\n", " ") for c in cells)
        lines.append(f"| {label} | {text} |")
    return lines


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width) or ["-"]


def render_comparison(verdicts: Sequence[Verdict], width: int = 34) -> str:
    """Side-by-side view of independent verdicts: threat, kind, why, confidence, action."""
    rows: list[tuple[str, Iterable[str]]] = list(_aspects(verdicts))
    header = f"{'Aspect':<17}" + "".join(f"{v.analyst:<{width + 2}}" for v in verdicts)
    out = [header.rstrip(), "-" * len(header.rstrip())]
    for label, cells in rows:
        wrapped = [_wrap(c, width) for c in cells]
        for i in range(max(len(w) for w in wrapped)):
            name = label if i == 0 else ""
            cells = "".join(f"{(w[i] if i < len(w) else ''):<{width + 2}}" for w in wrapped)
            out.append(f"{name:<17}{cells}".rstrip())
    return "\n".join(out)


_STATUS = {
    "alert": "CONFIRMED INCIDENT - alert raised",
    "needs_review": "NEEDS HUMAN REVIEW",
    "dismissed": "DISMISSED",
}


def _validation(decision: Decision) -> str:
    parts = []
    for v in decision.verdicts:
        if v.status is VerdictStatus.OK:
            parts.append(f"{v.analyst}: claims verified")
        elif v.problems:
            parts.append(f"{v.analyst}: REJECTED ({'; '.join(v.problems)})")
        else:
            parts.append(f"{v.analyst}: {v.status.value}")
    return "; ".join(parts) or "no verdicts"


def render_incident_report(incident: Incident, decision: Decision) -> str:
    """One incident as the SOC reads it: status, severity, confidence, validation, narrative,
    ATT&CK tactics and techniques, recommended actions. Every number shown decided."""
    stats = incident.stats
    conf = "-" if decision.confidence is None else f"{decision.confidence:.0%}"
    severity = (decision.severity or incident.severity).value.upper()
    tactics = stats.get("tactics") or sorted({a.tactic for a in incident.attack})
    lines = [
        f"INCIDENT {incident.id}: {incident.title}",
        f"Status:     {_STATUS[decision.outcome.value]}"
        + ("  (degraded: an analyst failed)" if decision.degraded else ""),
        f"Severity:   {severity}   detector score {incident.score:.2f}",
        f"Confidence: {conf} ({decision.policy} at threshold {decision.threshold:.2f})",
        f"Validation: {_validation(decision)}",
        f"Alerts:     {incident.event_count:,} between {_when(incident)}",
        "Narrative:",
        *(f"  {line}" for line in textwrap.wrap(str(stats.get("narrative") or incident.title), 76)),
        "Kill chain: " + (" -> ".join(stats.get("stages") or []) or "-"),
        "ATT&CK tactics: " + (", ".join(tactics) or "-"),
        "ATT&CK techniques:",
        *(f"  {a.technique_id} {a.technique_name} ({a.tactic})" for a in incident.attack),
        "Decision reasons:",
        *(f"  - {r}" for r in decision.reasons),
    ]
    if decision.recommended_actions:
        lines.append("Recommended actions (need human approval; nothing is executed):")
        lines += [f"  {n}. {a}" for n, a in enumerate(decision.recommended_actions, 1)]
    return "\n".join(lines)
