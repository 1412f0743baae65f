"""Splunk ES notable events for the Splunk connector, through ``| sendalert notable`` searches.

One lookup search finds the alerts that already have a notable (by ``siem_consensus_id``);
each other alert becomes ``| makeresults | eval ... | sendalert notable param.*``, the way the
ES developer documentation creates notables outside correlation searches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ...errors import ConnectorError
from ...models import WriteFailure
from .._documents import DecisionDocument
from ._hec import ID_FIELD

_NOTABLE_SEVERITY = {1: "informational", 21: "low", 47: "medium", 73: "high", 99: "critical"}
_SECURITY_DOMAIN = {
    "auth": "access",
    "firewall": "network",
    "ids": "network",
    "insider": "access",
}

Search = Callable[[str, str], tuple[list[object], list[tuple[str, str]]]]
"""Runs ``(spl, action)``: the results and the search messages (``(type, text)``)."""


def write_notables(
    alerts: list[DecisionDocument], search: Search
) -> tuple[int, int, list[WriteFailure]]:
    """Create one notable per alert document unless one with its id exists already.

    Returns:
        Notables created, notables that existed already, and failures (a failed lookup or
        ``sendalert``; the caller's HEC events are written regardless).
    """
    if not alerts:
        return 0, 0, []
    ids = " OR ".join(f'{ID_FIELD}="{doc.doc_id}"' for doc in alerts)
    lookup = f"search index=notable ({ids}) | stats count by {ID_FIELD}"
    try:
        rows, _ = search(lookup, "the notable lookup")
    except ConnectorError as exc:  # the HEC events are written: report, do not raise
        return 0, 0, [_notable_failure(doc, str(exc)) for doc in alerts]
    existing = {str(row.get(ID_FIELD)) for row in rows if isinstance(row, Mapping)}
    created = 0
    failures: list[WriteFailure] = []
    for doc in alerts:
        if doc.doc_id in existing:
            continue
        try:
            _, messages = search(notable_spl(doc), "the notable event (sendalert)")
        except ConnectorError as exc:
            messages = [("ERROR", str(exc))]
        errors = [text for kind, text in messages if kind in ("ERROR", "FATAL")]
        if errors:
            failures.append(_notable_failure(doc, "; ".join(errors)))
        else:
            created += 1
    return created, len(existing & {d.doc_id for d in alerts}), failures


def notable_spl(alert: DecisionDocument) -> str:
    """``| makeresults | eval ... | sendalert notable param.*`` for one alert document."""
    doc = alert.source
    decided = doc["siem_consensus"]
    fields: dict[str, object] = {
        ID_FIELD: alert.doc_id,
        "incident_id": decided["incident_id"],
        "confidence": decided["confidence"],
        "risk_score": doc["event"].get("risk_score", 0),
    }
    evals = [f"{key}={_spl_string(value)}" for key, value in fields.items()]
    for key, path in (("src", "source"), ("dest", "destination"), ("user", "user")):
        values = doc.get(path, {}).get("ip" if path != "user" else "name") or []
        if values:
            evals.append(f'{key}=split({_spl_string(",".join(values))}, ",")')
    techniques = doc.get("threat", {}).get("technique", {}).get("id") or []
    if techniques:
        evals.append(f'mitre_technique_id=split({_spl_string(",".join(techniques))}, ",")')
    detector = str(doc["event"]["dataset"]).removeprefix("siem_consensus.")
    params = {
        "rule_title": doc["rule"]["name"],
        "rule_description": (decided.get("reasons") or [doc["message"]])[-1],
        "security_domain": _SECURITY_DOMAIN.get(detector, "threat"),
        "severity": _NOTABLE_SEVERITY.get(int(doc["event"]["severity"]), "medium"),
    }
    action = " ".join(f"param.{key}={_spl_string(value)}" for key, value in params.items())
    return f"| makeresults | eval {', '.join(evals)} | sendalert notable {action}"


def _spl_string(value: object) -> str:
    text = " ".join(str(value).split())
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _notable_failure(doc: DecisionDocument, reason: str) -> WriteFailure:
    return WriteFailure(
        doc_id=doc.doc_id,
        incident_id=doc.incident_id,
        error_type="notable",
        reason=reason[:500],
    )
