"""Example 1 from a script: the seeded Scenario 1 log written to a file, analysed from disk.

Run: python examples/firewall_scan.py
"""

from pathlib import Path

from siem_consensus import analyze_firewall
from siem_consensus.generators.firewall import write_scenario_1
from siem_consensus.render import render_table

log = Path("asa_scenario_1.log")
write_scenario_1(log, seed=7)
report = analyze_firewall(log, members_path="members.csv")
print(render_table(report))
print(f"members of incidents: {len(Path('members.csv').read_text().splitlines()) - 1} events")
