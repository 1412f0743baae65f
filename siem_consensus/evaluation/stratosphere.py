"""Beaconing and C2 on real malware captures: the Stratosphere Laboratory Zeek logs.

Run: ``python -m siem_consensus.evaluation.stratosphere [--data ../shared/data/stratosphere]``

Data: Stratosphere Laboratory (CTU Prague), "security datasets for testing" (GPL-2.0; cite
the lab). Each capture's conn.log (Zeek TSV with ``#fields``) goes through
:func:`~siem_consensus.analyze_firewall` with the embedded analysts, decisions included. The
C2 channels come from the captures' own labels and READMEs, never from a guess:

* ``001`` NjRAT (first 1,000 flows, labelled per flow): every (source, destination, port,
  transport) of ``Malicious`` flows with at least ``min_flows`` flows is a channel; flows
  labelled ``Background`` or ``Benign`` are the benign traffic;
* ``003`` Android RAT: the README names the C2, 1337/tcp; every other flow counts as benign;
* ``005`` Simda (DGA): no per-flow labels; the README says the capture holds DGA traffic, which
  shows in its dns.log (failed lookups).

A capture with a ``dns.log`` (003, 005) is analysed as conn.log plus dns.log, formats detected
per file, as ``siem-consensus firewall conn.log dns.log`` does: the lookups feed the DGA-like
DNS check (supporting evidence on a beacon of the same host, else a ``dga`` incident).
Reported under ``dga``: the DNS lookups read, each host found (as a ``dga`` incident or as a
beacon's supporting evidence) with its statistics and decision, whether the README leads one to
expect a DGA (only 005), findings in a capture without one (false positives), and the hosts
with the most NXDOMAIN domains, found or not (so a near miss is visible).

Reported per capture: events, incidents (kind, severity, title), decisions (alert /
needs_review / dismissed / degraded), each channel found or missed (found = an incident whose
source and target are the channel's), and incidents raised on benign traffic only (false
positives). An embedded analyst's ``error`` verdict fails the evaluation (exit 1).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..api import analyze_firewall
from ..models import Incident, Outcome, VerdictStatus
from ._stratosphere_dns import dga_summary

__all__ = ["CAPTURES", "evaluate", "main"]

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "stratosphere"
Channel = tuple[str, str, int, str]  # source, destination, port, transport


@dataclass(frozen=True)
class Capture:
    """One capture: its conn log and where its C2 truth comes from."""

    folder: str
    log: str
    malware: str
    c2_port: int | None = None  # the README's C2 port (003)
    labelled: bool = False  # a per-flow `label` column (001)
    dns: str | None = None  # the capture's dns.log
    dga: bool = False  # the README says the malware uses a DGA (005)


CAPTURES = (
    Capture("001-zeek-scenario-malicious", "labeled-conn.log", "NjRAT", labelled=True),
    Capture(
        "003-zeek-scenario-malicious",
        "conn.log",
        "Android RAT (AndroidTester)",
        c2_port=1337,
        dns="dns.log",
    ),
    Capture("005-zeek-scenario-malicious", "conn.log", "Simda (DGA)", dns="dns.log", dga=True),
)


def _flows(path: Path) -> list[dict[str, str]]:
    """The data rows of a Zeek TSV log as dicts of its ``#fields``."""
    fields: list[str] = []
    rows = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("#fields"):
            fields = line.split("\t")[1:]
        elif line and not line.startswith("#"):
            rows.append(dict(zip(fields, line.split("\t"), strict=False)))
    return rows


def _channel(flow: dict[str, str]) -> Channel:
    return (flow["id.orig_h"], flow["id.resp_h"], int(flow["id.resp_p"]), flow["proto"])


def channels(capture: Capture, flows: list[dict[str, str]], min_flows: int) -> set[Channel]:
    """The C2 channels of a capture from its labels or README (empty when it has none)."""
    if capture.labelled:
        counts = Counter(_channel(f) for f in flows if f.get("label") == "Malicious")
    elif capture.c2_port is not None:
        counts = Counter(_channel(f) for f in flows if f["id.resp_p"] == str(capture.c2_port))
    else:
        return set()
    return {channel for channel, n in counts.items() if n >= min_flows}


def _benign(capture: Capture, flows: list[dict[str, str]]) -> set[str]:
    """Sources that only ever sent benign traffic (an incident on one is a false positive)."""
    bad = set()
    for flow in flows:
        if (
            capture.labelled
            and flow.get("label") == "Malicious"
            or capture.c2_port is not None
            and flow["id.resp_p"] == str(capture.c2_port)
        ):
            bad.add(flow["id.orig_h"])
    if not capture.labelled and capture.c2_port is None:
        return set()  # no truth: nothing can be called a false positive
    return {f["id.orig_h"] for f in flows} - bad


def _matches(incident: Incident, channel: Channel) -> bool:
    target = incident.stats.get("target") or {}
    source, dst, port, proto = channel
    if incident.entities.source_ips[:1] != (source,):
        return False
    if target:
        return (target["destination_ip"], target["destination_port"], target["transport"]) == (
            dst,
            port,
            proto,
        )
    return dst in incident.entities.destination_ips


def evaluate_capture(capture: Capture, data: Path, min_flows: int = 10) -> dict[str, Any]:
    """Analyse one capture with the embedded analysts and score it against its truth."""
    path = data / capture.folder / capture.log
    flows = _flows(path)
    dns = data / capture.folder / capture.dns if capture.dns else None
    if dns is not None and dns.is_file():
        report = analyze_firewall([path, dns])
    else:
        report = analyze_firewall(path, input_format="zeek")
        dns = None
    truth = channels(capture, flows, min_flows)
    benign = _benign(capture, flows)
    outcomes = Counter(d.outcome.value for d in report.decisions)
    errors = sum(v.status is VerdictStatus.ERROR for d in report.decisions for v in d.verdicts)
    decided = {d.incident_id: d for d in report.decisions}
    return {
        "capture": capture.folder,
        "malware": capture.malware,
        "events": report.input.events,
        "dead_letters": report.input.dead_letters,
        "incidents": [
            {
                "kind": i.kind,
                "severity": i.severity.value,
                "title": i.title,
                "decision": decided[i.id].outcome.value if i.id in decided else None,
            }
            for i in report.incidents
        ],
        "decisions": {
            "alert": outcomes.get(Outcome.ALERT.value, 0),
            "needs_review": outcomes.get(Outcome.NEEDS_REVIEW.value, 0),
            "dismissed": outcomes.get(Outcome.DISMISSED.value, 0),
            "degraded": sum(d.degraded for d in report.decisions),
        },
        "analyst_errors": errors,
        "channels": [
            {
                "channel": f"{c[0]} -> {c[1]}:{c[2]}/{c[3]}",
                "flows": sum(_channel(f) == c for f in flows),
                "found": any(_matches(i, c) for i in report.incidents),
            }
            for c in sorted(truth)
        ],
        "false_positive_incidents": sum(
            bool(i.entities.source_ips) and i.entities.source_ips[0] in benign
            for i in report.incidents
        ),
        **({} if dns is None else {"dga": dga_summary(capture, report, dns, decided)}),
    }


def evaluate(data: Path = DEFAULT_DATA) -> list[dict[str, Any]]:
    """Every capture present under ``data``."""
    found = [c for c in CAPTURES if (data / c.folder / c.log).is_file()]
    if not found:
        raise FileNotFoundError(f"no Stratosphere capture under {data}")
    return [evaluate_capture(c, data) for c in found]


def main(argv: list[str] | None = None) -> int:
    """Print the figures as JSON; exit 1 if an embedded analyst errored."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    results = evaluate(args.data)
    print(json.dumps(results, indent=2))
    failed = sum(r["analyst_errors"] for r in results)
    if failed:
        print(f"FAILED: {failed} embedded-analyst error verdict(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
