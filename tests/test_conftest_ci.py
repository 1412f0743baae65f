"""The suite's own rules under CI: a skip for missing data fails when ``CI=true``."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFTEST = Path(__file__).with_name("conftest.py")

_TESTS = """
import pytest

@pytest.mark.skipif(True, reason="../shared/data/cicids2017 not available")
def test_needs_data():
    pass

@pytest.mark.skipif(True, reason="needs a live ANTHROPIC_API_KEY")
def test_needs_a_key():
    pass

def test_runs():
    pass
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    pytester.makepyfile(_TESTS)
    return pytester


@pytest.mark.timeout(120)
def test_missing_data_fails_under_ci(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    result = suite.runpytest("-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(passed=1, errors=1, skipped=1)  # fails in setup, where skips happen
    result.stdout.fnmatch_lines(
        ["*CI=true but the data this test needs is missing (Skipped: ../shared/data/cicids2017*"]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED


@pytest.mark.timeout(120)
def test_missing_data_skips_elsewhere(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "false")
    result = suite.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=2)
    assert result.ret == pytest.ExitCode.OK


def test_slow_tests_get_the_long_timeout(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.slow
        def test_evaluation(request):
            assert request.node.get_closest_marker("timeout").args == (1800,)

        @pytest.mark.slow
        @pytest.mark.timeout(5)
        def test_own_timeout_wins(request):
            assert request.node.get_closest_marker("timeout").args == (5,)

        def test_ordinary(request):
            assert request.node.get_closest_marker("timeout") is None
        """
    )
    pytester.makeini("[pytest]\nmarkers =\n    slow: data-driven evaluations\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)
