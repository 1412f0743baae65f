"""OCSF export, validated against the OCSF 1.5.0 schema as pinned by ``ocsf-emitter==0.3.0``.

ocsf-emitter ships pydantic models generated from the OCSF 1.5.0 schema plus ``validate()``,
which re-checks the class identity (class/category/type uids and names) and the pinned schema
version. Its models allow unknown attributes (OCSF permits extensions), so :func:`_unknown`
additionally walks every finding and fails on any attribute the schema does not define, except
inside ``unmapped``, which OCSF reserves for exactly that.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import siem_consensus
from siem_consensus.examples import example_2
from siem_consensus.export import to_ocsf_findings
from siem_consensus.export.ocsf import OCSF_VERSION
from siem_consensus.generators import firewall
from siem_consensus.generators.insider import generate_insider_dataset
from siem_consensus.report import Report

ocsf_emitter = pytest.importorskip("ocsf_emitter")
DetectionFinding: type[BaseModel] = ocsf_emitter.models.DetectionFinding


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation can hold (unwrapping Optional, unions and lists)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, tuple):
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return []


def _unknown(value: Any, model: type[BaseModel], path: str = "$") -> list[str]:
    """Attributes of ``value`` that ``model`` (and its nested models) do not define."""
    if isinstance(value, list):
        return [e for n, item in enumerate(value) for e in _unknown(item, model, f"{path}[{n}]")]
    if not isinstance(value, dict):
        return []
    fields = {(f.alias or name): f for name, f in model.model_fields.items()}
    out: list[str] = []
    for key, item in value.items():
        if key == "unmapped":
            continue
        if key not in fields:
            out.append(f"{path}.{key}: not an attribute of OCSF {model.__name__}")
            continue
        for nested in _models_in(fields[key].annotation)[:1]:
            out += _unknown(item, nested, f"{path}.{key}")
    return out


def _validate(finding: dict[str, Any]) -> list[str]:
    try:
        ocsf_emitter.validate(DetectionFinding.model_validate(finding))
    except (ocsf_emitter.InvalidFindingError, ValueError) as exc:
        return [str(exc), *getattr(exc, "field_errors", [])]
    return _unknown(finding, DetectionFinding)


def test_validator_catches_broken_findings() -> None:
    good = to_ocsf_findings(example_2(quiet=True))[0]
    assert _validate(good) == []
    assert _validate({**good, "class_uid": 2003})  # identity invariant
    assert _validate({**good, "severity_id": 42})  # enum
    assert _validate({**good, "time": "yesterday"})  # type
    assert _validate({k: v for k, v in good.items() if k != "finding_info"})  # required
    assert _validate({**good, "metadata": {**good["metadata"], "version": "1.1.0"}})  # pin
    assert _validate({**good, "finding_info": {**good["finding_info"], "colour": "red"}})


def test_exports_the_pinned_schema_version() -> None:
    assert OCSF_VERSION == ocsf_emitter.OCSF_SCHEMA_VERSION == "1.5.0"


def _report(which: str, tmp_path: Path) -> Report:
    if which == "firewall":
        return siem_consensus.analyze_firewall(firewall.scenario_1(seed=7), input_format="asa")
    if which == "ids":
        return example_2(quiet=True)
    generate_insider_dataset(tmp_path, users=20, days=30, scenarios=("night_mass_download",))
    return siem_consensus.detect_insider_threats(tmp_path)


@pytest.mark.parametrize("which", ["firewall", "ids", "insider"])
def test_findings_validate_against_the_pinned_ocsf_schema(which: str, tmp_path: Path) -> None:
    report = _report(which, tmp_path)
    findings = to_ocsf_findings(report)
    assert len(findings) == len(report.decisions)
    for finding in findings:
        assert _validate(finding) == []
        assert finding["type_uid"] == finding["class_uid"] * 100 + finding["activity_id"]
    alert = next(f for f in findings if f["unmapped"]["outcome"] == "alert")
    assert alert["status"] == "New"
    assert alert["finding_info"]["attacks"]
    assert to_ocsf_findings(report) == findings
