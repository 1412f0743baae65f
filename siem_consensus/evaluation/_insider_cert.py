"""The CERT-shapes mode of the insider evaluation: CERT r4.2's three scenarios, each scored alone.

Run: ``python -m siem_consensus.evaluation.insider --cert-shapes [--seeds 1] [--users 300]
[--days 180] [--per-scenario 8]``

Each seed of :func:`~siem_consensus.generators.insider.generate_cert_shapes_dataset` (r4.2
columns: logon, device, file, http, email and LDAP; no byte counts, no content) is read back
with the CERT parsers and streamed through the detector with default thresholds and the LDAP
directory (no competitor list: nobody knows CERT's competitors). The incidents are decided by
the two embedded analysts under the insider default policy (``unanimous`` at 0.85).

Per scenario: insiders injected, with an incident (``found``), high or above, with an
``alert``, with an alert or ``needs_review`` (``reviewed``; degraded decisions never count),
whose every incident was dismissed, and with a degraded decision. Benign users: those with
an incident, those alerted, their incidents by outcome. Review load: incidents and decisions
reaching a human (alert + needs_review) per 1,000 detection user-days (users with activity on
a day of the detection period).
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from ..detectors.base import detect_stream
from ..detectors.insider import InsiderDetector, InsiderThresholds
from ..generators.insider import CERT_SCENARIOS, generate_cert_shapes_dataset
from ..models import Decision, Incident, Outcome, Severity
from ..parsers.cert import cert_inputs, read_ldap
from ..sources import EventStream
from ._decisions import embedded_errors, judge_embedded, outcomes_by_incident, reaches_human

__all__ = ["evaluate_cert_shapes", "print_cert_shapes"]

_COLUMNS = ("injected", "found", "high", "alert", "reviewed", "dismissed", "degraded")


def _run(
    seed: int, users: int, days: int, per_scenario: int, thresholds: InsiderThresholds | None
) -> dict[str, Any]:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="insider-cert-") as tmp:
        data = generate_cert_shapes_dataset(
            tmp, seed, users=users, days=days, per_scenario=per_scenario
        )
        inputs = cert_inputs(Path(tmp))
        directory = read_ldap(inputs.ldap) if inputs.ldap else None
        detector = InsiderDetector(thresholds, directory=directory)
        incidents = detect_stream(iter(EventStream(inputs.event_files)), detector)
    return {
        "seed": seed,
        "insiders": {t.user: t.scenario for t in data.truth},
        "incidents": incidents,
        "decisions": judge_embedded("insider", incidents),
        "user_days": detector.user_days.height,
        "seconds": time.perf_counter() - started,
    }


def _scenarios(runs: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    table = {s: dict.fromkeys(_COLUMNS, 0) for s in CERT_SCENARIOS}
    for run in runs:
        by_id = outcomes_by_incident(run["decisions"])
        for user, scenario in run["insiders"].items():
            mine = [i for i in run["incidents"] if i.entities.users == (user,)]
            decided = [by_id.get(i.id) for i in mine]
            row = table[scenario]
            row["injected"] += 1
            row["found"] += bool(mine)
            row["high"] += any(i.severity.rank >= Severity.HIGH.rank for i in mine)
            row["alert"] += any(reaches_human(d, alert_only=True) for d in decided)
            row["reviewed"] += any(reaches_human(d) for d in decided)
            row["dismissed"] += bool(mine) and all(
                d is not None and d.outcome is Outcome.DISMISSED for d in decided
            )
            row["degraded"] += any(d is not None and d.degraded for d in decided)
    return table


def _benign(runs: list[dict[str, Any]]) -> dict[str, Any]:
    users: set[tuple[int, str]] = set()
    alerted: set[tuple[int, str]] = set()
    outcomes: Counter[str] = Counter()
    examples = []
    for run in runs:
        by_id: dict[str, Decision] = outcomes_by_incident(run["decisions"])
        incident: Incident
        for incident in run["incidents"]:
            user = incident.entities.users[0]
            if user in run["insiders"]:
                continue
            users.add((run["seed"], user))
            decision = by_id.get(incident.id)
            outcome = decision.outcome.value if decision else "missing"
            outcomes[outcome] += 1
            if reaches_human(decision, alert_only=True):
                alerted.add((run["seed"], user))
            examples.append(
                f"seed {run['seed']} {user}: {incident.severity.value} {outcome} "
                f"{incident.stats['features']}"
            )
    return {
        "users_with_incidents": len(users),
        "users_alerted": len(alerted),
        "incidents_by_outcome": dict(outcomes),
        "examples": examples[:50],
    }


def _load(runs: list[dict[str, Any]]) -> dict[str, Any]:
    user_days = sum(r["user_days"] for r in runs)
    decisions = [d for r in runs for d in r["decisions"]]
    human = sum(reaches_human(d) for d in decisions)
    per = 1000 / user_days if user_days else 0.0
    return {
        "user_days": user_days,
        "incidents": sum(len(r["incidents"]) for r in runs),
        "incidents_per_1000_user_days": round(len(decisions) * per, 3),
        "to_a_human": human,
        "to_a_human_per_1000_user_days": round(human * per, 3),
        "degraded": sum(d.degraded for d in decisions),
    }


def evaluate_cert_shapes(
    seeds: list[int],
    users: int = 300,
    days: int = 180,
    per_scenario: int = 8,
    thresholds: InsiderThresholds | None = None,
) -> dict[str, Any]:
    """Run every seed and summarise per scenario (see the module docstring)."""
    runs = [_run(seed, users, days, per_scenario, thresholds) for seed in seeds]
    return {
        "setup": {"seeds": seeds, "users": users, "days": days, "per_scenario": per_scenario},
        "scenarios": _scenarios(runs),
        "benign": _benign(runs),
        "review_load": _load(runs),
        "embedded_errors": [
            f"seed {r['seed']}: {e}" for r in runs for e in embedded_errors(r["decisions"])
        ],
        "seconds": round(sum(r["seconds"] for r in runs), 1),
    }


def print_cert_shapes(result: dict[str, Any]) -> None:
    """Print the CERT-shapes summary."""
    setup, load, benign = result["setup"], result["review_load"], result["benign"]
    print(
        f"CERT r4.2 shapes: seeds {setup['seeds']}, {setup['users']} users, {setup['days']} "
        f"days, {setup['per_scenario']} insiders per scenario"
    )
    print(f"{'scenario':<34}" + "".join(f"{c:>10}" for c in _COLUMNS))
    for name, row in result["scenarios"].items():
        print(f"{name:<34}" + "".join(f"{row[c]:>10}" for c in _COLUMNS))
    print(
        f"benign: {benign['users_with_incidents']} users with an incident, "
        f"{benign['users_alerted']} alerted; incidents by outcome {benign['incidents_by_outcome']}"
    )
    print(
        f"review load: {load['incidents']} incidents over {load['user_days']:,} detection "
        f"user-days = {load['incidents_per_1000_user_days']} per 1,000; to a human (alert + "
        f"needs_review) {load['to_a_human']} = {load['to_a_human_per_1000_user_days']} per "
        f"1,000; degraded {load['degraded']}; embedded errors {len(result['embedded_errors'])}"
    )
    print(f"time: {result['seconds']} s")
