"""Shared test configuration.

Data-driven tests read the labelled data sets in ``../shared/data`` (beside the clone) and skip
when a data set is missing, with a reason that names ``shared/data`` or says "not available".
Under ``CI=true`` such a skip is a failure: CI always has the data, so a skip there means a
moved folder or a broken path, not a machine without data.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Generator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings

# Fixtures shipped to users (provider_simulator, ...), used by our own tests too; pytester
# runs our own pytest hooks in a child session (test_conftest_ci.py).
pytest_plugins = ["siem_consensus.testing.pytest_plugin", "pytester"]

# The default suite is run often: 50 examples per property (Hypothesis's own default is 100).
# CI (.ci/run) explores six times as many with the "ci" profile.
settings.register_profile(
    "default", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# `make mutation`: a mutant is killed by its first failing example, so shrinking it only costs
# time, and 50 examples per property keep the runs of surviving mutants short.
settings.register_profile(
    "mutation",
    max_examples=50,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
"""The labelled data sets, read in place (never copied into the repository)."""

_MISSING_DATA = re.compile(r"shared/data|not available", re.IGNORECASE)


def in_ci() -> bool:
    """Whether this run is CI's (``CI=true``), where every data set must be present."""
    return os.environ.get("CI", "").strip().lower() == "true"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Under ``CI=true``, turn a skip for missing data into a failure that says why."""
    report = yield
    if report.skipped and in_ci() and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2])
        if _MISSING_DATA.search(reason):
            report.outcome = "failed"
            report.longrepr = (
                f"CI=true but the data this test needs is missing ({reason}); "
                f"expected the data sets in {SHARED_DATA}"
            )
    return report


SLOW_TIMEOUT_S = 1800
"""Timeout of a ``slow`` evaluation that sets none (the default 300 s is for ordinary tests)."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give slow evaluations a longer timeout; under ``make mutation``, run fastest first.

    mutmut stops at the first failing test (``-x``), so a killed mutant costs only the tests run
    before the one that kills it; their durations come from mutmut's unmutated run.
    """
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT_S))
    stats = Path("mutmut-stats.json")
    if not os.environ.get("MUTANT_UNDER_TEST") or not stats.exists():
        return
    durations: dict[str, float] = json.loads(stats.read_text())["duration_by_test"]
    items.sort(key=lambda item: durations.get(item.nodeid, 0.0))
