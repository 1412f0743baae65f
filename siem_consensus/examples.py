"""The bundled examples: the scenarios of the project's origin, told on real machinery.

Each runs offline on the embedded analysts, prints its story and returns the typed report.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .api import analyze_auth, analyze_firewall, correlate_ids_alerts, detect_insider_threats
from .models import Outcome, Severity
from .render import render_comparison, render_incident_report, render_table
from .report import AuthReport, FirewallReport, IdsReport, InsiderReport

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .analysts.base import Analyst
    from .graphs.approval import SqliteActionLog

__all__ = ["example_1", "example_2", "example_3", "example_4"]


def example_1(
    seed: int = 7, *, quiet: bool = False, analysts: Sequence[str | Analyst] | str | None = None
) -> FirewallReport:
    """Scenario 1: one port scan hidden among internet noise and a DNS misconfiguration.

    Generates a seeded Cisco ASA log (195 scan denies, ~1,000 background denies, ~150-200
    denied DNS lookups from a misconfigured host), runs the firewall graph with the two
    embedded analysts (or ``analysts``: names such as ``"rules,claude"`` or instances) under
    the unanimous policy, prints their verdicts side by side and the decision, and returns the
    report.
    """
    from .generators.firewall import scenario_1

    lines = scenario_1(seed)
    report = analyze_firewall(lines, input_format="asa", analysts=analysts)  # unanimous at 0.8
    if not quiet:
        _print_example_1(report)
    return report


def _print_example_1(report: FirewallReport) -> None:
    print("=" * 78)
    print("Example 1 - firewall log analysis (Cisco ASA, seeded scenario)")
    print("=" * 78)
    print(render_table(report))  # with the analysts side by side for each incident
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
    report = correlate_ids_alerts(lines, input_format="suricata")  # default: majority at 0.8
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
            print(f"  [{outcome}] {incident.title}")


def example_3(seed: int = 7, *, quiet: bool = False) -> InsiderReport:
    """Scenario 3: bob.engineer's night-time mass download, judged with unanimity and approval.

    Generates a seeded CERT-format data set (ordinary users with realistic variety plus
    injected insider scenarios, among them Scenario 3), runs the insider graph with the
    embedded analysts under the unanimous policy at 0.85, shows the verdicts side by side and,
    for an alert, the human-approval step: the graph is paused in a SQLite checkpoint, a
    reviewer approves some actions and rejects others, and only the approved ones are recorded.
    """
    import tempfile

    from .generators.insider import generate_insider_dataset
    from .graphs.approval import SqliteActionLog

    with tempfile.TemporaryDirectory(prefix="siem-consensus-example-3-") as tmp:
        root = Path(tmp)
        generate_insider_dataset(root / "cert", seed=seed)
        log = SqliteActionLog(root / "actions.sqlite")
        report = detect_insider_threats(
            root / "cert",
            checkpointer=root / "runs.sqlite",
            action_sink=log,
            thread_id="example-3",
        )
        if not quiet:
            _print_example_3(report)
            _approve_example_3(report, root, log)
    return report


def _print_example_3(report: InsiderReport) -> None:
    print("=" * 78)
    print("Example 3 - insider threat (CERT format, seeded scenario)")
    print("=" * 78)
    print(
        f"{report.input.events:,} events -> {len(report.incidents)} candidate(s) -> "
        f"{len(report.alerts)} alert(s) (unanimous at {report.threshold:.2f})"
    )
    for incident in report.incidents:
        decision = report.decision_for(incident.id)
        users = ", ".join(incident.entities.users) or "?"
        print()
        if decision.outcome is Outcome.ALERT:
            print(f"INSIDER THREAT ALERT: {users}")
            print(f"Consensus: all {len(decision.verdicts)} analysts agree, independently")
            print(f"Combined confidence: {decision.confidence:.0%} (the lowest of theirs)")
            print(f"Severity: {(decision.severity or incident.severity).value.upper()}")
            print(f"Pattern: {incident.stats.get('pattern') or incident.kind}")
            print(f"What happened: {incident.stats.get('narrative') or incident.title}")
            print(render_comparison(decision.verdicts))
            print("IMMEDIATE ACTIONS (recommended; nothing happens without approval):")
            for n, action in enumerate(decision.recommended_actions, 1):
                print(f"  {n}. {action}")
        else:
            why = "; ".join(decision.reasons[:2])
            print(
                f"[{decision.outcome.value}] {incident.kind}: manual investigation, nobody "
                f"is accused ({why})"
            )


def _approve_example_3(report: InsiderReport, root: Path, log: SqliteActionLog) -> None:
    from .graphs.insider import build_insider_graph
    from .review import decide_approval

    def build(saver: Any) -> Any:
        return build_insider_graph(checkpointer=saver, action_sink=log)

    for pending in report.pending_approvals:
        actions = list(pending["actions"])
        chosen = [a for a in actions if not a.lower().startswith("disable")]
        approval_id = f"{pending['thread_id']}/{pending['incident_id']}"
        print()
        print(
            f"Human review of {approval_id}: approve {len(chosen)} of {len(actions)} actions "
            "(account disabling rejected until HR is involved)"
        )
        decide_approval(
            root / "runs.sqlite",
            build,
            approval_id,
            approve=chosen,
            by="soc-lead (example)",
            note="example_3 walkthrough",
        )
    for entry in log.entries():
        who = entry["approved_by"]
        print(f"  recorded once: {entry['incident_id']}: {entry['action']} (by {who})")


def example_4(seed: int = 7, *, quiet: bool = False) -> AuthReport:
    """Scenario 4: a guessed SSH password among a day of internet background on a jump host.

    Generates a seeded sshd ``auth.log`` of ``bastion01`` (staff logins with the odd typo,
    about 60 internet scanners and two bots guessing ``root``, a scanner walking non-existent
    names, and one attacker who sprays the site's accounts, guesses ``svc-backup`` and gets
    in), runs the auth graph with the two embedded analysts under the unanimous policy, and
    shows which incidents reach a human and which stay background.
    """
    from .generators.auth import scenario_4

    lines = scenario_4(seed)
    report = analyze_auth(lines, input_format="openssh", policy="unanimous", threshold=0.8)
    if not quiet:
        _print_example_4(report)
    return report


def _print_example_4(report: AuthReport) -> None:
    print("=" * 78)
    print("Example 4 - SSH authentication (OpenSSH auth.log, seeded scenario)")
    print("=" * 78)
    attempts = sum(int(i.stats.get("failures", 0)) for i in report.incidents)
    print(
        f"{report.input.events:,} sshd lines -> {len(report.incidents)} incident(s) "
        f"({attempts:,} failed attempts inside them) -> {len(report.alerts)} alert(s)"
    )
    for incident in report.incidents:
        decision = report.decision_for(incident.id)
        scope = "background" if incident.stats.get("background") else "targeted"
        print(
            f"  [{decision.outcome.value}] {incident.severity.value:<8} {scope:<10} "
            f"{incident.title}"
        )
    for decision in report.alerts:
        incident = report.incident(decision.incident_id)
        print()
        print(render_incident_report(incident, decision))
