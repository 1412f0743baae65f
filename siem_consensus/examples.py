"""The bundled examples: the scenarios of the project's origin, told on real machinery.

Each runs offline on the embedded analysts, prints its story and returns the typed report.
"""

from __future__ import annotations

from .api import analyze_firewall
from .models import Outcome
from .render import render_comparison, render_table
from .report import FirewallReport

__all__ = ["example_1"]


def example_1(seed: int = 7, *, quiet: bool = False) -> FirewallReport:
    """Scenario 1: one port scan hidden among internet noise and a DNS misconfiguration.

    Generates a seeded Cisco ASA log (195 scan denies, ~1,000 background denies, ~150-200
    denied DNS lookups from a misconfigured host), runs the firewall graph with the two
    embedded analysts under the unanimous policy, prints their verdicts side by side and the
    decision, and returns the report.
    """
    from .generators.firewall import scenario_1

    lines = scenario_1(seed)
    report = analyze_firewall(lines, input_format="asa", policy="unanimous", threshold=0.8)
    if not quiet:
        _print_example_1(report)
    return report


def _print_example_1(report: FirewallReport) -> None:
    print("=" * 78)
    print("Example 1 - firewall log analysis (Cisco ASA, seeded scenario)")
    print("=" * 78)
    print(render_table(report))
    for incident in report.incidents:
        decision = report.decision_for(incident.id)
        print()
        print(f"Side by side: {incident.title}")
        print(render_comparison(decision.verdicts))
    alerts = report.by_outcome(Outcome.ALERT)
    print()
    print(
        f"{report.input.events:,} events -> {len(report.incidents)} incident(s) -> "
        f"{len(alerts)} alert(s); everything else stays out of the alert queue."
    )
