"""OCSF export, validated against a HAND-WRITTEN subset of the OCSF 1.1.0 Detection Finding
class (class_uid 2004): no official OCSF schema package is pinned in this project.

The schema below lists the base-event and finding attributes OCSF 1.1 marks required
(activity_id, category_uid, class_uid, type_uid, severity_id, time, metadata{product, version},
finding_info{uid, title}) plus the enums we emit. It is checked with ``jsonschema`` when that is
installed, else by the small structural validator below (type/required/properties/items/
const/enum/minimum/maximum only).
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest

import siem_consensus
from siem_consensus.examples import example_2
from siem_consensus.export import to_ocsf_findings
from siem_consensus.generators import firewall
from siem_consensus.report import Report

_ID_ENUM = {"type": "integer", "minimum": 0}
_NAMED = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}

DETECTION_FINDING_1_1_SUBSET: dict[str, Any] = {
    "type": "object",
    "required": [
        "activity_id",
        "category_uid",
        "class_uid",
        "type_uid",
        "severity_id",
        "time",
        "metadata",
        "finding_info",
    ],
    "properties": {
        "activity_id": {"enum": [0, 1, 2, 3, 99]},
        "category_uid": {"const": 2},
        "class_uid": {"const": 2004},
        "type_uid": {"enum": [200400, 200401, 200402, 200403, 200499]},
        "severity_id": {"enum": [0, 1, 2, 3, 4, 5, 6, 99]},
        "status_id": {"enum": [0, 1, 2, 3, 4, 99]},
        "confidence_id": {"enum": [0, 1, 2, 3, 99]},
        "confidence_score": {"type": "integer", "minimum": 0, "maximum": 100},
        "time": {"type": "integer", "minimum": 0},
        "status": {"type": "string"},
        "message": {"type": "string"},
        "metadata": {
            "type": "object",
            "required": ["product", "version"],
            "properties": {
                "version": {"const": "1.1.0"},
                "product": {
                    "type": "object",
                    "required": ["name", "vendor_name"],
                    "properties": {
                        "name": {"type": "string"},
                        "vendor_name": {"type": "string"},
                    },
                },
            },
        },
        "finding_info": {
            "type": "object",
            "required": ["uid", "title"],
            "properties": {
                "uid": {"type": "string"},
                "title": {"type": "string"},
                "analytic": {
                    "type": "object",
                    "required": ["type_id"],
                    "properties": {"type_id": {"enum": [0, 1, 2, 3, 4, 5, 99]}},
                },
                "attacks": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["technique", "tactic"],
                        "properties": {
                            "technique": {
                                "type": "object",
                                "required": ["uid", "name"],
                                "properties": {
                                    "uid": {"type": "string"},
                                    "name": {"type": "string"},
                                },
                            },
                            "tactic": _NAMED,
                        },
                    },
                },
            },
        },
        "observables": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "type_id"],
                "properties": {"type_id": _ID_ENUM},
            },
        },
    },
}

_TYPES: dict[str, type | tuple[type, ...]] = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
}


def _errors(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """Tiny JSON Schema subset validator, used when jsonschema is not installed."""
    out: list[str] = []
    kind = schema.get("type")
    if kind and (not isinstance(value, _TYPES[kind]) or isinstance(value, bool)):
        return [f"{path}: expected {kind}, got {type(value).__name__}"]
    if "const" in schema and value != schema["const"]:
        out.append(f"{path}: {value!r} != {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{path}: {value!r} not in {schema['enum']}")
    if "minimum" in schema and value < schema["minimum"]:
        out.append(f"{path}: {value} < {schema['minimum']}")
    if "maximum" in schema and value > schema["maximum"]:
        out.append(f"{path}: {value} > {schema['maximum']}")
    if isinstance(value, dict):
        out += [f"{path}: missing {k}" for k in schema.get("required", []) if k not in value]
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                out += _errors(value[key], sub, f"{path}.{key}")
    if isinstance(value, list) and "items" in schema:
        for n, item in enumerate(value):
            out += _errors(item, schema["items"], f"{path}[{n}]")
    return out


def _validate(finding: dict[str, Any]) -> list[str]:
    try:
        jsonschema = importlib.import_module("jsonschema")
    except ImportError:
        return _errors(finding, DETECTION_FINDING_1_1_SUBSET)
    validator = jsonschema.Draft202012Validator(DETECTION_FINDING_1_1_SUBSET)
    return [e.message for e in validator.iter_errors(finding)]


def test_validator_catches_broken_findings() -> None:
    assert _errors({"class_uid": 2003}, DETECTION_FINDING_1_1_SUBSET)
    assert _errors({"finding_info": {"uid": 1}}, DETECTION_FINDING_1_1_SUBSET)


@pytest.mark.parametrize("which", ["firewall", "ids"])
def test_findings_validate_against_hand_written_schema(which: str) -> None:
    report: Report = (
        siem_consensus.analyze_firewall(firewall.scenario_1(seed=7), input_format="asa")
        if which == "firewall"
        else example_2(quiet=True)
    )
    findings = to_ocsf_findings(report)
    assert len(findings) == len(report.decisions)
    for finding in findings:
        assert _validate(finding) == []
        assert finding["type_uid"] == finding["class_uid"] * 100 + finding["activity_id"]
    alert = next(f for f in findings if f["unmapped"]["outcome"] == "alert")
    assert alert["status"] == "New"
    assert alert["finding_info"]["attacks"]
    assert to_ocsf_findings(report) == findings
