"""scripts/mutation_report.py: the per-module scores that `make mutation` prints."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import FrameType, ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "mutation_report.py"


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutation_report", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.mutmut]\nonly_mutate = ["siem_consensus/a.py"]\n', encoding="utf-8"
    )
    (tmp_path / "siem_consensus").mkdir()
    for name in ("a.py", "b.py"):
        (tmp_path / "siem_consensus" / name).write_text("", encoding="utf-8")
    codes = {
        "siem_consensus.a.x_f__mutmut_1": 1,  # killed
        "siem_consensus.a.x_f__mutmut_2": 0,  # survived
        "siem_consensus.a.x_f__mutmut_3": 0,  # survived, listed as equivalent
        "siem_consensus.a.x_f__mutmut_4": None,  # not run yet
        "siem_consensus.a.x_g__mutmut_1": 33,  # no covering test
        "siem_consensus.a.x_g__mutmut_2": 36,  # timeout: a hang the tests caught
    }
    meta = tmp_path / "mutants" / "siem_consensus" / "a.py.meta"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"exit_code_by_key": codes}), encoding="utf-8")
    (tmp_path / "testing.md").write_text(
        "# T\n\n## Equivalent survivors\n\n"
        "- `siem_consensus.a.x_f__mutmut_3`: `>=` and `>` agree on integers here.\n\n"
        "## Next\n\n- `siem_consensus.a.x_f__mutmut_2`: not in the section.\n",
        encoding="utf-8",
    )
    return tmp_path


def test_scores_count_timeouts_as_killed_and_leave_out_equivalents(
    tool: ModuleType, project: Path
) -> None:
    [path] = tool.mutated_modules(project)
    assert path == Path("siem_consensus/a.py")
    equivalent = tool.equivalent_mutants(project / "testing.md")
    assert equivalent == {"siem_consensus.a.x_f__mutmut_3"}
    score = tool.score_module(path, equivalent, project)
    assert dict(score.statuses) == {
        "killed": 2, "survived": 1, "equivalent": 1, "not run": 1, "no tests": 1,
    }  # fmt: skip
    assert score.score == pytest.approx(50.0)  # 2 killed of 4 judged
    table, overall = tool.report([score], survivors=True)
    assert overall == pytest.approx(50.0)
    assert "siem_consensus.a.x_f__mutmut_2 (survived)" in table
    assert "siem_consensus.a.x_g__mutmut_1 (no tests)" in table
    assert "mutmut_3" not in table


def test_nothing_run_is_not_a_score(tool: ModuleType, tmp_path: Path) -> None:
    score = tool.score_module(Path("siem_consensus/a.py"), set(), tmp_path)
    assert score.score is None and tool.report([score])[1] is None


def _chain(depth: int) -> FrameType:
    return sys._getframe() if depth == 0 else _chain(depth - 1)


def test_coverage_is_recorded_only_within_the_depth_limit() -> None:
    """scripts/mutation_plugin.py counts the frames of the source between a call and pytest."""
    spec = importlib.util.spec_from_file_location(
        "mutation_plugin", SCRIPT.with_name("mutation_plugin.py")
    )
    assert spec is not None and spec.loader is not None
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    source = str(Path(__file__).resolve().parent)
    frame = _chain(2)  # three _chain frames and this test's own: four frames of "source"
    assert plugin._within(frame, source, 4)
    assert not plugin._within(frame, source, 3)
    assert plugin._within(frame, "/nowhere/", 1)  # frames of other code are free


def test_the_equivalents_listed_in_docs_testing_md_are_read(tool: ModuleType) -> None:
    names = tool.equivalent_mutants()
    assert "siem_consensus.analysts.admission.x__decide__mutmut_21" in names
    assert len(names) >= 6 and all("__mutmut_" in name for name in names)
