"""``--analyst-timeout`` in a stream job: the decide stage bounds analyst calls as batch does.

The option reaches the decide stage (``DecideSettings.analyst_timeout``) from the command line
or the ``[defaults]`` tables, and there a call slower than it is an error verdict over real
HTTP to the provider simulator, hence a degraded needs_review (as ``test_llm_timeout.py``
shows for the batch commands).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from llm_helpers import FAST_RETRY, claims, scan_incident, settings

from siem_consensus import Outcome, VerdictStatus
from siem_consensus.cli import main
from siem_consensus.stream import DecideSettings, decide_incidents, get_family
from siem_consensus.testing import ProviderSimulator, RecordedRequest, Reply

ONE_ATTEMPT = FAST_RETRY.model_copy(update={"max_attempts": 1})


def _slow(_request: RecordedRequest) -> Reply:
    return Reply(payload=claims(scan_incident(), evidence_event_ids=[]), latency=1.5)


def _decide(analyst_timeout: float | None) -> Any:
    """The openai analyst's verdict and the decision on the scan, answers taking 1.5 s."""
    incident = scan_incident().model_dump(mode="json")
    decide = DecideSettings(
        analysts="rules,openai",
        llm_settings=settings(retry=ONE_ATTEMPT, timeout=30.0),
        analyst_timeout=analyst_timeout,
    )
    [decision] = decide_incidents(get_family("firewall"), [incident], decide).decisions
    [verdict] = [v for v in decision.verdicts if v.analyst == "openai"]
    return verdict, decision


def test_the_decide_stage_applies_the_analyst_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    with ProviderSimulator() as sim:
        for name, value in sim.environ().items():
            monkeypatch.setenv(name, value)
        sim.openai.respond_with(_slow)
        verdict, decision = _decide(analyst_timeout=0.4)
        assert verdict.status is VerdictStatus.ERROR and "timed out" in (verdict.error or "")
        assert decision.outcome is Outcome.NEEDS_REVIEW and decision.degraded
        # The control: without it the 30 s of the LLM settings bind and the answer counts.
        verdict, decision = _decide(analyst_timeout=None)
        assert verdict.status is VerdictStatus.OK, verdict.error
        assert not decision.degraded


def _worker_timeout(
    monkeypatch: pytest.MonkeyPatch, config: Path, tmp_path: Path, flags: list[str]
) -> Any:
    """What ``siem-consensus stream`` gives its worker as the analyst timeout (no run)."""
    pytest.importorskip("quixstreams")
    from siem_consensus.stream import StreamWorker

    seen: list[Any] = []

    def run_instead(worker: StreamWorker, until_idle: float | None = None) -> None:
        seen.append(worker.settings.decide.analyst_timeout)

    monkeypatch.setattr(StreamWorker, "run", run_instead)
    args = ["stream", "firewall", "--connectors", str(config), "--from", "kafka", "asa"]
    assert main([*args, "--state-dir", str(tmp_path / "state"), *flags]) == 0
    return seen[0]


def test_cli_and_defaults_give_the_worker_its_analyst_timeout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any
) -> None:
    pytest.importorskip("noida_db")
    from stream_helpers import connectors_file, create_topic

    from siem_consensus.testing.noida import NoidaServer

    with NoidaServer(("kafka",)) as server:
        create_topic(server.kafka_bootstrap, "asa", partitions=1)
        config = connectors_file(tmp_path / "c.toml", server.kafka_bootstrap)
        assert _worker_timeout(monkeypatch, config, tmp_path, []) is None
        assert _worker_timeout(monkeypatch, config, tmp_path, ["--analyst-timeout", "7"]) == 7.0
        config.write_text(config.read_text() + "\n[defaults.stream]\nanalyst-timeout = 9\n")
        assert _worker_timeout(monkeypatch, config, tmp_path, []) == 9.0
        assert _worker_timeout(monkeypatch, config, tmp_path, ["--analyst-timeout", "7"]) == 7.0
        capsys.readouterr()
        args = ["stream", "firewall", "--connectors", str(config), "--from", "kafka", "asa"]
        assert main([*args, "--analyst-timeout", "0"]) == 2
        assert "analyst timeout 0.0: give a positive number of seconds" in capsys.readouterr().err
