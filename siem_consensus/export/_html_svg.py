"""The pictures of the HTML report, as inline SVG: the incident timeline with a time axis, and
each campaign's attack graph (hosts as nodes, the steps between them over time as edges).

Every string that may come from logs or analysts is escaped; no script, no external asset.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import escape

from ..models import Decision, Event, Incident

__all__ = ["COLORS", "attack_graph", "timeline"]

COLORS = {"alert": "#d32f2f", "needs_review": "#f29900", "dismissed": "#9e9e9e"}
_WIDTH, _LABEL, _ROW, _AXIS = 900, 300, 24, 34
_STEPS = (1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200, 21600, 43200, 86400, 7 * 86400)


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "\u2026"


def _ticks(start: float, end: float, most: int = 7) -> list[float]:
    """Round tick times (1 s ... 1 week apart) covering [start, end], at most ``most``."""
    span = max(end - start, 1.0)
    step = next((s for s in _STEPS if span / s <= most), _STEPS[-1])
    first = (int(start) // step + 1) * step
    return [float(t) for t in range(first, int(end) + 1, step)]


def _tick_label(t: float, span: float) -> str:
    when = datetime.fromtimestamp(t, UTC)
    if span >= 2 * 86400:
        return f"{when:%m-%d %H:%M}"
    return f"{when:%H:%M:%S}" if span < 600 else f"{when:%H:%M}"


def timeline(pairs: list[tuple[Incident, Decision]]) -> str:
    """One labelled bar per incident over a UTC time axis, coloured by outcome."""
    timed = [(i, d) for i, d in pairs if i.first_seen is not None and i.last_seen is not None]
    if not timed:
        return "<p>No incident has a time range.</p>"
    start = min(i.first_seen.timestamp() for i, _ in timed if i.first_seen)
    end = max(i.last_seen.timestamp() for i, _ in timed if i.last_seen)
    span = max(end - start, 1.0)
    plot = _WIDTH - _LABEL - 20

    def x(t: float) -> float:
        return _LABEL + (t - start) / span * plot

    parts = []
    for row, (inc, dec) in enumerate(timed):
        assert inc.first_seen is not None and inc.last_seen is not None
        left, right = x(inc.first_seen.timestamp()), x(inc.last_seen.timestamp())
        y = row * _ROW
        parts.append(
            f'<text class="lbl" x="{_LABEL - 8}" y="{y + 16}" text-anchor="end">'
            f"{escape(_short(inc.title, 44))}</text>"
            f'<rect x="{left:.1f}" y="{y + 4}" width="{max(right - left, 3):.1f}" '
            f'height="{_ROW - 8}" rx="3" fill="{COLORS[dec.outcome.value]}">'
            f"<title>{escape(inc.title)} ({escape(dec.outcome.value)}; "
            f"{inc.first_seen:%Y-%m-%d %H:%M:%S} - {inc.last_seen:%H:%M:%S} UTC)</title></rect>"
        )
    base = len(timed) * _ROW + 6
    parts.append(
        f'<line x1="{_LABEL}" y1="{base}" x2="{_LABEL + plot}" y2="{base}" stroke="#444"/>'
    )
    for t in _ticks(start, end):
        parts.append(
            f'<line x1="{x(t):.1f}" y1="{base}" x2="{x(t):.1f}" y2="{base + 5}" stroke="#444"/>'
            f'<text class="tick" x="{x(t):.1f}" y="{base + 18}" text-anchor="middle">'
            f"{_tick_label(t, span)}</text>"
        )
    first = datetime.fromtimestamp(start, UTC)
    parts.append(
        f'<text class="tick" x="{_LABEL}" y="{base + 32}">'
        f"time (UTC), from {first:%Y-%m-%d %H:%M:%S}</text>"
    )
    height = base + _AXIS + 6
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="{_WIDTH}" '
        f'height="{height}" role="img" aria-label="incident timeline">{"".join(parts)}</svg>'
        + _legend()
    )


def _legend() -> str:
    items = "".join(
        f'<span><i style="background:{color}"></i>{escape(name)}</span>'
        for name, color in COLORS.items()
    )
    return f'<p class="legend">{items}</p>'


def _steps(incident: Incident) -> list[tuple[str, str, str, datetime | None, int]]:
    """(from host, to host, what, first time, count) per distinct step of the evidence."""
    steps: dict[tuple[str, str, str], list[Event]] = {}
    for event in incident.evidence:
        src, dst = event.source_ip or event.host_name, event.destination_ip
        if not src or not dst:
            continue
        what = event.rule_name or event.event_action or event.rule_category or "event"
        steps.setdefault((src, dst, what), []).append(event)
    far = datetime.max.replace(tzinfo=UTC)
    ordered = sorted(steps.items(), key=lambda kv: min(e.timestamp or far for e in kv[1]))
    return [
        (src, dst, what, min((e.timestamp for e in evs if e.timestamp), default=None), len(evs))
        for (src, dst, what), evs in ordered
    ]


def attack_graph(incident: Incident) -> str:
    """Hosts as nodes in order of first appearance, each step an arrow labelled with its
    number, time and signature; empty when the evidence has no host-to-host step."""
    steps = _steps(incident)
    if not steps:
        return ""
    hosts: list[str] = []
    for src, dst, *_ in steps:
        hosts += [h for h in (src, dst) if h not in hosts]
    roles = _roles(incident)
    gap = max(180, min(300, (_WIDTH - 80) // max(len(hosts) - 1, 1)))
    width = 80 + gap * (len(hosts) - 1) + 80
    mid = 34 + 26 * ((len(steps) + 1) // 2)
    where = {h: 80 + n * gap for n, h in enumerate(hosts)}
    parts = [
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/>'
        "</marker></defs>"
    ]
    for n, (src, dst, what, when, count) in enumerate(steps, 1):
        x1, x2 = where[src], where[dst]
        up = n % 2 == 1
        bend = 26 * ((n + 1) // 2) * (-1 if up else 1)
        apex_y = mid + bend + (-5 if up else 13)  # the curve's middle is halfway to Q
        cx = (x1 + x2) / 2 if x1 != x2 else x1 + 60
        label = f"{n}. {when:%H:%M:%S} " if when else f"{n}. "
        label += _short(what, 38) + (f" \u00d7{count}" if count > 1 else "")
        parts.append(
            f'<path d="M{x1},{mid} Q{cx:.0f},{mid + bend * 2} {x2},{mid}" fill="none" '
            f'stroke="#555" stroke-width="1.4" marker-end="url(#arrow)"/>'
            f'<text class="step" x="{cx:.0f}" y="{apex_y:.0f}" text-anchor="middle">'
            f"{escape(label)}<title>{escape(what)}</title></text>"
        )
    for host in hosts:
        role = roles.get(host, "")
        fill = {"attacker": "#fde0dc", "victim": "#fff4d6", "peer": "#e8eaf6"}.get(role, "#eee")
        parts.append(
            f'<rect x="{where[host] - 62}" y="{mid - 17}" width="124" height="34" rx="6" '
            f'fill="{fill}" stroke="#333"/>'
            f'<text class="host" x="{where[host]}" y="{mid - 1}" text-anchor="middle">'
            f"{escape(host)}</text>"
            f'<text class="role" x="{where[host]}" y="{mid + 12}" text-anchor="middle">'
            f"{escape(role)}</text>"
        )
    height = 2 * mid
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="{width}" '
        f'height="{height}" role="img" aria-label="attack graph">{"".join(parts)}</svg>'
    )


def _roles(incident: Incident) -> dict[str, str]:
    stats = incident.stats
    roles: dict[str, str] = {}
    for role, key in (("peer", "peers"), ("victim", "victims"), ("attacker", "attackers")):
        for host in stats.get(key) or ():
            roles[str(host)] = role
    if not roles:
        roles.update({ip: "source" for ip in incident.entities.source_ips})
        roles.update({ip: "destination" for ip in incident.entities.destination_ips})
    return roles


def duration(incident: Incident) -> str:
    """``12 min`` / ``3.5 h`` between first and last seen; ``-`` when unknown."""
    if incident.first_seen is None or incident.last_seen is None:
        return "-"
    span = incident.last_seen - incident.first_seen
    if span < timedelta(minutes=2):
        return f"{span.total_seconds():.0f} s"
    if span < timedelta(hours=2):
        return f"{span.total_seconds() / 60:.0f} min"
    return f"{span.total_seconds() / 3600:.1f} h"
