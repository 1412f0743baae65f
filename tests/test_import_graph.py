"""The import graph: no circles between modules, no import that runs back up a layer.

Every ``import`` of the package is walked, at module level and inside functions alike; only
imports under ``if TYPE_CHECKING:`` are left out (they never run). The layers are written once,
in :mod:`siem_consensus._layers`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import siem_consensus
from siem_consensus._layers import LAYERS, layer_of

PACKAGE = Path(siem_consensus.__file__).parent
Edge = tuple[str, str, int]  # importer, imported, line


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p): p for p in PACKAGE.rglob("*.py")}


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        kept = package[: len(package) - node.level + 1]
        base = ".".join([*kept, node.module] if node.module else kept)
    else:
        base = node.module or ""
    for alias in node.names:
        # `from pkg import submodule` imports the submodule; `from pkg import name`, the package
        yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base


def edges() -> list[Edge]:
    found: list[Edge] = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = _type_checking_lines(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom) or node.lineno in skipped:
                continue
            for target in _targets(node, module, path.name == "__init__.py"):
                if target in MODULES and target != module:
                    found.append((module, target, node.lineno))
    return found


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_module_is_in_a_layer() -> None:
    units = {_unit(m) for m in MODULES}
    placed = {name for layer in LAYERS for name in layer}
    assert units - placed == set(), "add new top-level modules to siem_consensus/_layers.py"


def test_no_import_runs_back_up_a_layer() -> None:
    upward = [
        f"{src} (line {line}) imports {dst}: layer {layer_of(_unit(src))} < {layer_of(_unit(dst))}"
        for src, dst, line in edges()
        if layer_of(_unit(dst)) > layer_of(_unit(src))
    ]
    assert upward == []


def test_no_circles_between_modules() -> None:
    graph: dict[str, set[str]] = {}
    for src, dst, _ in edges():
        graph.setdefault(src, set()).add(dst)
    assert circles(graph) == []


def test_the_analyst_contract_does_not_import_llm_analysts() -> None:
    base = [dst for src, dst, _ in edges() if src == "siem_consensus.analysts.base"]
    assert not [dst for dst in base if dst.startswith("siem_consensus.analysts.llm")]


# The checks themselves must be able to fail: a planted circle and a planted upward import.
def test_a_planted_circle_is_found() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from .. import runner\n", "siem_consensus.runner"),
        ("def f():\n    from ..graphs.nodes import TriageState\n", "siem_consensus.graphs.nodes"),
    ],
)
def test_function_level_and_relative_imports_are_walked(source: str, expected: str) -> None:
    node = next(
        n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Import | ast.ImportFrom)
    )
    assert list(_targets(node, "siem_consensus.parsers.base", False)) == [expected]
