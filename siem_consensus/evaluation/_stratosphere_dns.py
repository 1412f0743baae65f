"""The DGA part of the Stratosphere evaluation: what the dns.log of a capture gave."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..detectors.firewall._dga_names import registrable
from ..models import Decision

if TYPE_CHECKING:
    from ..report import FirewallReport
    from .stratosphere import Capture

__all__ = ["dga_summary"]

_NEAR = 5


def dga_summary(
    capture: Capture, report: FirewallReport, dns: Path, decided: dict[str, Decision]
) -> dict[str, Any]:
    """DNS lookups read, DGA findings with decisions, false positives, top NXDOMAIN hosts."""
    found = []
    for incident in report.incidents:
        stats = incident.stats if incident.kind == "dga" else incident.stats.get("dga")
        if not stats or not incident.entities.source_ips:
            continue
        decision = decided.get(incident.id)
        found.append(
            {
                "host": incident.entities.source_ips[0],
                "as": "dga incident" if incident.kind == "dga" else f"{incident.kind} support",
                "severity": incident.severity.value,
                "decision": decision.outcome.value if decision else None,
                "degraded": decision.degraded if decision else None,
                **{
                    key: stats.get(key)
                    for key in (
                        "failed_domains",
                        "failed_lookups",
                        "lookups",
                        "algorithmic_share",
                        "domains_per_tld",
                        "duration_s",
                    )
                },
            }
        )
    lookups, near = _lookups(dns)
    return {
        "lookups": lookups,
        "expected": capture.dga,
        "found": found,
        "false_positives": 0 if capture.dga else len(found),
        "nxdomain_hosts": near,
    }


def _lookups(dns: Path) -> tuple[int, dict[str, int]]:
    """Rows of the dns.log, and the hosts with the most distinct NXDOMAIN domains."""
    fields: list[str] = []
    rows = 0
    failed: dict[str, set[str]] = {}
    for line in dns.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("#fields"):
            fields = line.split("\t")[1:]
        elif line and not line.startswith("#"):
            rows += 1
            row = dict(zip(fields, line.split("\t"), strict=False))
            domain = registrable(row.get("query", "-"))
            if row.get("rcode_name") == "NXDOMAIN" and domain is not None:
                failed.setdefault(row["id.orig_h"], set()).add(domain[0])
    counts = Counter({host: len(domains) for host, domains in failed.items()})
    return rows, dict(counts.most_common(_NEAR))
