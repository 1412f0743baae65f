"""Every import path that README.md and docs/ show still works (modules move; paths stay)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from siem_consensus._layers import LAYERS

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
_FROM = re.compile(r"^\s*from (siem_consensus[\w.]*) import \(?([\w, ]+)\)?\s*$", re.MULTILINE)
_DOTTED = re.compile(r"`(siem_consensus(?:\.\w+)+)`")


def _documented() -> list[tuple[str, str, str]]:
    found = set()
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for module, names in _FROM.findall(text):
            for name in filter(None, (n.strip().split(" as ")[0] for n in names.split(","))):
                found.add((doc.name, module, name))
    return sorted(found)


def _dotted() -> list[tuple[str, str]]:
    """Dotted paths into a real sub-package (``siem_consensus.incident`` is a document field)."""
    units = {name for layer in LAYERS for name in layer}
    return sorted(
        (doc.name, path)
        for doc in DOCS
        for path in set(_DOTTED.findall(doc.read_text("utf-8")))
        if path.split(".")[1] in units and "__mutmut_" not in path
    )


def _mutants() -> list[tuple[str, str]]:
    """mutmut's names of mutants (docs/testing.md): ``<module>.x_<function>__mutmut_<n>``."""
    return sorted(
        (doc.name, path)
        for doc in DOCS
        for path in set(_DOTTED.findall(doc.read_text("utf-8")))
        if "__mutmut_" in path
    )


@pytest.mark.parametrize(("doc", "module", "name"), _documented())
def test_documented_import_works(doc: str, module: str, name: str) -> None:
    assert hasattr(importlib.import_module(module), name), f"{doc}: from {module} import {name}"


@pytest.mark.parametrize(("doc", "path"), _dotted())
def test_documented_dotted_path_resolves(doc: str, path: str) -> None:
    """`siem_consensus.a.b.c` in prose names a module, or an attribute of one."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr, None)
            assert obj is not None, f"{doc}: {path} does not resolve"
        return
    pytest.fail(f"{doc}: {path} names no module")


@pytest.mark.parametrize(("doc", "path"), _mutants())
def test_documented_mutant_names_a_function_that_exists(doc: str, path: str) -> None:
    """A listed mutant's module exists and still defines the function (or method) it mutated."""
    module, _, mangled = path.rpartition(".")
    target = mangled.removeprefix("x").rsplit("__mutmut_", 1)[0]
    names = [n for n in target.split("\u01c1") if n] if "\u01c1" in target else [target[1:]]
    obj: object = importlib.import_module(module)
    for name in names:
        obj = getattr(obj, name, None)
        assert obj is not None, f"{doc}: {path}: {module} has no {'.'.join(names)}"


def test_the_scan_finds_the_documented_paths() -> None:
    assert len(_documented()) > 30
    assert ("README.md", "siem_consensus", "analyze_firewall") in _documented()
