"""pytest fixtures for the provider simulator.

Enable them in a ``conftest.py``::

    pytest_plugins = ["siem_consensus.testing.pytest_plugin"]
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from siem_consensus.testing.provider_sim import ProviderSimulator

__all__ = ["provider_simulator", "provider_simulator_env"]


@pytest.fixture
def provider_simulator() -> Iterator[ProviderSimulator]:
    """A running :class:`ProviderSimulator`, stopped after the test."""
    with ProviderSimulator() as sim:
        yield sim


@pytest.fixture
def provider_simulator_env(
    provider_simulator: ProviderSimulator, monkeypatch: pytest.MonkeyPatch
) -> ProviderSimulator:
    """The simulator, with ``ANTHROPIC_*``/``OPENAI_*`` base URL and key env vars set to it.

    For code that builds its own SDK clients from the environment.
    """
    for name, value in provider_simulator.environ().items():
        monkeypatch.setenv(name, value)
    return provider_simulator
