"""Start-up stays light: ``import siem_consensus`` and ``siem-consensus --help`` load no graph
library, no dataframe library, no connector and no vendor SDK, and a run refused before its
analysis loads no graph library (benchmarks/bench_startup.py
measures the times)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cli_helpers import cli_env

from siem_consensus.generators.firewall import scenario_1

HEAVY = (
    "langgraph",
    "langchain_core",
    "polars",
    "pydantic",
    "anthropic",
    "openai",
    "kafka",
    "siem_consensus.connectors",
    "siem_consensus.graphs",
    "rich",
)

_PROBE = """
import sys
{setup}
heavy = {heavy!r}
print(",".join(m for m in heavy if m in sys.modules))
"""


def _loaded(setup: str) -> str:
    code = _PROBE.format(setup=setup, heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), check=True
    )
    return done.stdout.strip()


def test_import_is_light() -> None:
    assert _loaded("import siem_consensus") == ""


def test_help_and_version_are_light() -> None:
    for flag in ("--help", "--version"):
        setup = (
            "from siem_consensus.cli import main\n"
            "import contextlib, io\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    try:\n        main([{flag!r}])\n    except SystemExit:\n        pass"
        )
        assert _loaded(setup) == "", flag


def test_names_still_resolve_on_first_use() -> None:
    setup = "import siem_consensus\nsiem_consensus.analyze_firewall"
    assert "langgraph" in _loaded(setup)


def test_a_run_refused_before_the_analysis_loads_no_graph(tmp_path: Path) -> None:
    """Bad ``--thresholds`` or connector settings are refused before the API (and LangGraph,
    ~1.5 s of CPU) is imported; the refusal itself is still exit 2."""
    (tmp_path / "asa.log").write_text("\n".join(scenario_1(seed=7)) + "\n")
    (tmp_path / "bad.toml").write_text("[firewall\nport_scan_ports = ")
    (tmp_path / "conn.toml").write_text('[connectors.os]\ntype = "opensearch"\n')
    runs = [
        ["firewall", str(tmp_path / "asa.log"), "--thresholds", str(tmp_path / "bad.toml")],
        ["firewall", "--from", "os", "*", "--connectors", str(tmp_path / "conn.toml")],
    ]
    for argv in runs:
        setup = (
            "from siem_consensus.cli import main\n"
            "import contextlib, io\n"
            "with contextlib.redirect_stderr(io.StringIO()):\n"
            f"    assert main({argv!r}) == 2\n"
        )
        assert "langgraph" not in _loaded(setup).split(","), argv
