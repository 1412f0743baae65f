"""Every ```python block in README.md and docs/ runs, offline, as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _blocks() -> list[tuple[str, str]]:
    found = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for n, block in enumerate(_BLOCK.findall(doc.read_text(encoding="utf-8")), 1):
            found.append((f"{doc.relative_to(ROOT)}#{n}", block))
    return found


@pytest.mark.parametrize(("where", "code"), _blocks(), ids=[w for w, _ in _blocks()])
def test_doc_block_runs(
    where: str, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(code, where, "exec"), {"__name__": "__docs__"})  # noqa: S102


def test_examples_folder_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for script in sorted((ROOT / "examples").glob("*.py")):
        exec(compile(script.read_text(), str(script), "exec"), {"__name__": "__main__"})  # noqa: S102


def test_every_firewall_threshold_is_documented() -> None:
    from siem_consensus.detectors.firewall import FirewallThresholds

    text = (ROOT / "docs" / "firewall.md").read_text(encoding="utf-8")
    missing = [name for name in FirewallThresholds.model_fields if f"`{name}`" not in text]
    assert not missing, f"undocumented thresholds: {missing}"
