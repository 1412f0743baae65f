"""The bundled examples: the scenarios of the project's origin, told on real machinery.

Each runs offline on the embedded analysts, prints its story and returns the typed report.
"""

from __future__ import annotations

from .api import analyze_firewall, correlate_ids_alerts
from .models import Outcome, Severity
from .render import render_comparison, render_incident_report, render_table
from .report import FirewallReport, IdsReport

__all__ = ["example_1", "example_2"]


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


def example_2(seed: int = 7, *, quiet: bool = False) -> IdsReport:
    """Scenario 2: one multi-stage web attack buried in ~4,500 IDS alerts.

    Generates seeded Suricata EVE alerts (the 9-alert campaign of 185.220.101.45 against
    10.1.50.25 among ~4,490 noise alerts), runs parse -> enrich -> analyze -> validate -> alert
    with the embedded analysts under the majority policy, and prints the incident report.
    """
    from .generators.ids import scenario_2

    lines = scenario_2(seed)
    report = correlate_ids_alerts(lines, input_format="suricata", policy="majority")
    if not quiet:
        _print_example_2(report)
    return report


def _print_example_2(report: IdsReport) -> None:
    print("=" * 78)
    print("Example 2 - IDS alert correlation (Suricata EVE, seeded scenario)")
    print("=" * 78)
    serious = [i for i in report.incidents if i.severity.rank >= Severity.MEDIUM.rank]
    print(
        f"{report.input.events:,} alerts -> {len(report.incidents)} incident(s), "
        f"{len(serious)} of medium severity or above -> {len(report.alerts)} alert(s)"
    )
    for incident in serious or report.incidents[:1]:
        print()
        print(render_incident_report(incident, report.decision_for(incident.id)))
    quiet = [i for i in report.incidents if i not in serious]
    if quiet:
        print()
        print(f"Low-priority groups ({len(quiet)}), not alerts:")
        for incident in quiet[:10]:
            outcome = report.decision_for(incident.id).outcome.value
            print(f"  [{outcome}] {incident.title} ({incident.event_count:,} alerts)")
