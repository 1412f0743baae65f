"""Example 4 from a script: the seeded SSH day written as an auth.log, analysed from disk.

Run: python examples/example_4.py
"""

from pathlib import Path

from siem_consensus import analyze_auth
from siem_consensus.generators.auth import write_scenario_4
from siem_consensus.render import render_table

log = Path("auth.log")
write_scenario_4(log, seed=7)
report = analyze_auth(log, members_path="auth_members.csv")
print(render_table(report))
for decision in report.alerts:
    print("ALERT:", report.incident(decision.incident_id).title)
print(f"members of incidents: {len(Path('auth_members.csv').read_text().splitlines()) - 1} events")
