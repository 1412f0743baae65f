"""Every ```python block in README.md and docs/ runs, offline, as written."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from siem_consensus import Analyst

ROOT = Path(__file__).resolve().parent.parent
_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _blocks() -> list[tuple[str, str]]:
    found = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for n, block in enumerate(_BLOCK.findall(doc.read_text(encoding="utf-8")), 1):
            found.append((f"{doc.relative_to(ROOT)}#{n}", block))
    return found


def _readme_quickstart(ns: dict[str, Any], out: str) -> None:
    report = ns["report"]
    lines = out.splitlines()
    assert lines[0] == f"{report.input.events} events -> 1 incident(s)"
    assert lines[1].startswith("alert ") and len(report.alerts) == 1


def _resumed_from_checkpoint(ns: dict[str, Any], out: str) -> None:
    assert out == "['alert']\n"


def _approved_exactly_once(ns: dict[str, Any], out: str) -> None:
    recorded, refusal = out.splitlines()
    assert recorded == repr([ns["first"].actions[1]])
    assert "was already answered by alice at " in refusal and recorded in refusal
    assert len(ns["pending"]) >= 1


def _custom_analyst(ns: dict[str, Any], out: str) -> None:
    assert isinstance(ns["MyAnalyst"](), Analyst) and out == ""


def _llm_settings(ns: dict[str, Any], out: str) -> None:
    settings = ns["settings"]
    assert (settings.batch_size, settings.retry.max_attempts, settings.min_score) == (8, 4, 0.3)
    assert settings.budget.max_cost_usd == 5.0 and settings.budget.max_tokens == 500_000


def _pytest_plugin(ns: dict[str, Any], out: str) -> None:
    [name] = ns["pytest_plugins"]
    plugin = importlib.import_module(name)
    assert callable(plugin.provider_simulator) and callable(plugin.provider_simulator_env)


# What a block without its own `assert` must show: its output or the objects it builds.
EXPECTED: dict[str, Callable[[dict[str, Any], str], None]] = {
    "README.md#1": _readme_quickstart,
    "docs/architecture.md#1": _resumed_from_checkpoint,
    "docs/architecture.md#2": _approved_exactly_once,
    "docs/consensus.md#1": _custom_analyst,
    "docs/llm.md#1": _llm_settings,
    "docs/testing.md#2": _pytest_plugin,
}


@pytest.mark.parametrize(("where", "code"), _blocks(), ids=[w for w, _ in _blocks()])
def test_doc_block_runs(
    where: str,
    code: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    exec(compile(code, where, "exec"), namespace)  # noqa: S102
    out = capsys.readouterr().out
    if where in EXPECTED:
        EXPECTED[where](namespace, out)
    else:
        assert re.search(r"^\s*assert ", code, re.MULTILINE), (
            f"{where} checks nothing: add an assert to the block or an entry to EXPECTED"
        )


def test_examples_folder_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for script in sorted((ROOT / "examples").glob("*.py")):
        exec(compile(script.read_text(), str(script), "exec"), {"__name__": "__main__"})  # noqa: S102


def test_every_firewall_threshold_is_documented() -> None:
    from siem_consensus.detectors.firewall import FirewallThresholds

    text = (ROOT / "docs" / "firewall.md").read_text(encoding="utf-8")
    missing = [name for name in FirewallThresholds.model_fields if f"`{name}`" not in text]
    assert not missing, f"undocumented thresholds: {missing}"
