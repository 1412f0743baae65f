"""Start-up stays light: ``import siem_consensus`` and ``siem-consensus --help`` load no graph
library, no dataframe library, no connector and no vendor SDK (benchmarks/bench_startup.py
measures the times)."""

from __future__ import annotations

import subprocess
import sys

from cli_helpers import cli_env

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
