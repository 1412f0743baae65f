"""A vote is over the configured analysts, about the incident each was asked.

Misbehaving analysts (wrong incident id, None, wrong type, exception, hang, and batches that
fail, hang or answer too few/too many) run through the real IDS graph on the generated
scenario (one critical campaign, five low alert floods).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from siem_consensus import Decision, Incident, Outcome, TriageContext, Verdict, VerdictStatus
from siem_consensus.analysts.base import run_analyst, run_analyst_batch
from siem_consensus.consensus import UnanimousPolicy, decide
from siem_consensus.generators.ids import scenario_2
from siem_consensus.graphs.ids import build_ids_graph
from siem_consensus.graphs.nodes import make_consensus
from siem_consensus.models import Severity

LINES = scenario_2(seed=7)
FLOOD = "ids-301a456cb1694875"  # one of the scenario's low alert floods


def _other(incident_id: str) -> str:
    """The incident a lying analyst names instead of the one it was asked about."""
    return FLOOD if incident_id != FLOOD else "ids-x"


def _run(
    analysts: Sequence[Any], policy: str = "unanimous", timeout: float = 5.0
) -> list[Decision]:
    graph = build_ids_graph(analysts=list(analysts), policy=policy, analyst_timeout=timeout)
    context = TriageContext(inline_sources=[LINES])
    state = asyncio.run(graph.ainvoke({"input_format": "suricata"}, context=context))
    return [Decision.model_validate(d) for d in state["decisions"]]


def _sure(analyst: str, case: Incident, incident_id: str | None = None) -> Verdict:
    return Verdict(
        analyst=analyst,
        incident_id=case.id if incident_id is None else incident_id,
        is_threat=True,
        confidence=0.95,
    )


class _Honest:
    """Says threat, 0.95, about the case it was asked."""

    name = "honest"

    async def analyze(self, case: Incident) -> Verdict:
        return _sure(self.name, case)


class _Misbehaving:
    """Answers every case in one wrong way."""

    name = "bad"

    def __init__(self, how: str) -> None:
        self.how = how
        self.asked: list[str] = []

    async def analyze(self, case: Incident) -> Any:
        self.asked.append(case.id)
        if self.how == "wrong_id":  # "benign, 0.99" about another incident
            other = _other(case.id)
            return Verdict(analyst="bad", incident_id=other, is_threat=False, confidence=0.99)
        if self.how == "none":
            return None
        if self.how == "wrong_type":
            return {"is_threat": True, "confidence": 0.99}
        if self.how == "exception":
            raise RuntimeError("model crashed")
        await asyncio.sleep(3600)  # hang
        raise AssertionError("unreachable")


def _only(decision: Decision, analyst: str) -> Verdict:
    [verdict] = [v for v in decision.verdicts if v.analyst == analyst]
    return verdict


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("wrong_id", "verdict about {other}, asked about {case}"),
        ("none", "returned nothing instead of a Verdict"),
        ("wrong_type", "returned a dict instead of a Verdict"),
        ("exception", "RuntimeError: model crashed"),
        ("hang", "timed out after 0.3s"),
    ],
)
def test_a_misbehaving_analyst_is_an_error_verdict_on_every_case_it_was_asked(
    how: str, message: str
) -> None:
    bad = _Misbehaving(how)
    decisions = _run([_Honest(), bad], timeout=0.3)
    assert len(decisions) == 6 and sorted(bad.asked) == sorted(d.incident_id for d in decisions)
    for decision in decisions:
        assert [v.analyst for v in decision.verdicts] == ["honest", "bad"]
        assert all(v.incident_id == decision.incident_id for v in decision.verdicts)
        verdict = _only(decision, "bad")
        assert verdict.status is VerdictStatus.ERROR and verdict.is_threat is None
        expected = message.format(other=_other(decision.incident_id), case=decision.incident_id)
        assert verdict.error == expected
        assert decision.outcome is Outcome.NEEDS_REVIEW and decision.degraded
        assert _only(decision, "honest").status is VerdictStatus.OK


def test_a_verdict_stamped_with_another_incident_never_votes_there() -> None:
    """The liar's "benign 0.99" verdicts all name one incident; they must not pile up there
    nor leave the honest analyst deciding the others alone."""
    decisions = _run([_Honest(), _Misbehaving("wrong_id")])
    named = next(d for d in decisions if d.incident_id == FLOOD)
    assert len(named.verdicts) == 2
    assert not any(d.outcome is Outcome.ALERT for d in decisions)


def test_unanimous_with_one_configured_analyst_never_alerts() -> None:
    decisions = _run([_Honest()], policy="unanimous")
    assert {d.outcome for d in decisions} == {Outcome.NEEDS_REVIEW}
    assert all("at least two agreeing analysts" in " ".join(d.reasons) for d in decisions)
    assert {d.outcome for d in _run([_Honest()], policy="majority")} == {Outcome.ALERT}


class _Skipper:
    """Not asked by design (like an LLM below its pre-filter score)."""

    name = "skipper"

    async def analyze(self, case: Incident) -> Verdict:
        return Verdict(
            analyst=self.name, incident_id=case.id, status=VerdictStatus.SKIPPED, rationale="low"
        )


def test_unanimous_never_alerts_when_the_other_analyst_was_skipped() -> None:
    decisions = _run([_Honest(), _Skipper()], policy="unanimous")
    assert not any(d.outcome is Outcome.ALERT for d in decisions)
    assert all(not d.degraded and len(d.verdicts) == 2 for d in decisions)


class _Batcher:
    """Batches low-tier cases three at a time and misbehaves in one way per batch."""

    name = "batcher"
    batch_size = 3

    def __init__(self, how: str) -> None:
        self.how = how
        self.batches: list[list[str]] = []

    def batchable(self, case: Incident) -> bool:
        return case.severity is Severity.LOW

    async def analyze(self, case: Incident) -> Verdict:
        return _sure(self.name, case)

    async def analyze_batch(self, cases: list[Incident]) -> Any:
        self.batches.append([c.id for c in cases])
        answers = [_sure(self.name, c) for c in cases]
        if self.how == "exception":
            raise ConnectionError("provider unreachable")
        if self.how == "hang":
            await asyncio.sleep(3600)
        if self.how == "too_few":
            return answers[:-1]
        if self.how == "too_many":
            return [*answers, _sure(self.name, cases[0], "ids-elsewhere")]
        if self.how == "duplicate":
            return [answers[0], *answers]
        if self.how == "reversed":
            return answers[::-1]
        if self.how == "none":
            return None
        return answers


def _batch_verdicts(how: str) -> tuple[_Batcher, dict[str, Verdict]]:
    batcher = _Batcher(how)
    decisions = _run([_Honest(), batcher], timeout=0.3)
    return batcher, {d.incident_id: _only(d, "batcher") for d in decisions}


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("exception", "ConnectionError: provider unreachable"),
        ("hang", "timed out after 0.3s"),
        ("none", "batch returned NoneType, not a list"),
    ],
)
def test_a_failed_batch_is_one_error_verdict_per_case(how: str, message: str) -> None:
    batcher, verdicts = _batch_verdicts(how)
    assert sorted(map(len, batcher.batches)) == [2, 3]
    batched = {i for batch in batcher.batches for i in batch}
    for incident_id, verdict in verdicts.items():
        if incident_id in batched:
            assert verdict.status is VerdictStatus.ERROR and verdict.error == message
        else:  # the critical campaign is never batched: it was judged alone
            assert verdict.status is VerdictStatus.OK


@pytest.mark.parametrize("how", ["too_few", "too_many", "duplicate", "reversed"])
def test_batch_answers_are_bound_to_their_cases(how: str) -> None:
    batcher, verdicts = _batch_verdicts(how)
    for batch in batcher.batches:
        for position, incident_id in enumerate(batch):
            verdict = verdicts[incident_id]
            assert verdict.incident_id == incident_id
            if how == "too_few" and position == len(batch) - 1:
                expected = f"batch returned {len(batch) - 1} answers for {len(batch)} cases"
                assert verdict.status is VerdictStatus.ERROR
                assert (verdict.error or "").startswith(expected)
            elif how == "duplicate" and position == 0:
                assert verdict.error == "batch returned 2 verdicts about this case"
            else:
                assert verdict.status is VerdictStatus.OK and verdict.is_threat


def test_a_batch_answer_without_ids_is_bound_by_position_only_when_counts_match() -> None:
    cases = [
        Incident(id=f"c{n}", detector="d", kind="k", title="t", severity=Severity.LOW, score=0.3)
        for n in range(3)
    ]

    class Anonymous:
        name = "anon"

        def __init__(self, count: int) -> None:
            self.count = count

        async def analyze(self, case: Incident) -> Verdict:
            raise AssertionError("batched")

        async def analyze_batch(self, batch: list[Incident]) -> list[Verdict]:
            return [
                Verdict(analyst="", is_threat=n == 1, confidence=0.9) for n in range(self.count)
            ]

    exact = asyncio.run(run_analyst_batch(Anonymous(3), cases))
    assert [(v.incident_id, v.analyst, v.is_threat) for v in exact] == [
        ("c0", "anon", False),
        ("c1", "anon", True),
        ("c2", "anon", False),
    ]
    short = asyncio.run(run_analyst_batch(Anonymous(2), cases))
    assert {v.status for v in short} == {VerdictStatus.ERROR}
    assert short[0].error == "batch returned 2 answers for 3 cases, none about this one"


def test_run_analyst_binds_an_anonymous_verdict_and_keeps_usage_of_a_wrong_one() -> None:
    case = Incident(id="c1", detector="d", kind="k", title="t", severity=Severity.LOW, score=0.3)

    class Answer:
        name = "mine"

        def __init__(self, verdict: Verdict) -> None:
            self.verdict = verdict

        async def analyze(self, case: Incident) -> Verdict:
            return self.verdict

    anonymous = Verdict(analyst="someone", is_threat=True, confidence=0.9)
    bound = asyncio.run(run_analyst(Answer(anonymous), case))
    assert (bound.analyst, bound.incident_id, bound.status) == ("mine", "c1", VerdictStatus.OK)
    wrong = anonymous.model_copy(update={"incident_id": "c2", "model": "m", "latency_s": 1.5})
    failed = asyncio.run(run_analyst(Answer(wrong), case))
    assert failed.error == "verdict about c2, asked about c1" and failed.is_threat is None
    assert (failed.model, failed.latency_s) == ("m", 1.5)  # costs stay accounted


def _campaign() -> Incident:
    return Incident(
        id="inc", detector="ids", kind="campaign", title="t", severity=Severity.LOW, score=0.5
    )


def test_decide_counts_every_configured_analyst() -> None:
    case = _campaign()
    agree = [_sure("a", case), _sure("b", case)]
    policy = UnanimousPolicy(0.8)
    assert decide(case, agree, policy, analysts=["a", "b"]).outcome is Outcome.ALERT
    missing = decide(case, agree[:1], policy, analysts=["a", "b"])
    assert [v.analyst for v in missing.verdicts] == ["a", "b"]
    assert missing.verdicts[1].error == "no verdict from this configured analyst"
    assert missing.outcome is Outcome.NEEDS_REVIEW and missing.degraded
    conflicting = [*agree, agree[1].model_copy(update={"is_threat": False})]
    twice = decide(case, conflicting, policy, analysts=["a", "b"])
    assert twice.verdicts[1].error == "2 different verdicts about one incident" and twice.degraded
    repeated = decide(case, [*agree, agree[1]], policy, analysts=["a", "b"])
    assert repeated.outcome is Outcome.ALERT and len(repeated.verdicts) == 2
    stray = decide(case, [*agree, _sure("c", case)], policy, analysts=["a", "b"])
    assert stray.verdicts[2].error == "'c' is not a configured analyst" and stray.degraded


def test_the_decide_node_fills_in_an_analyst_with_no_verdict() -> None:
    case = _campaign()
    node = make_consensus(UnanimousPolicy(0.8), [_Honest(), _Skipper()])
    state: Any = {
        "incidents": [case.model_dump(mode="json")],
        "verdicts": [_sure("honest", case).model_dump(mode="json")],
    }
    [raw] = node(state)["decisions"]
    decision = Decision.model_validate(raw)
    assert [v.analyst for v in decision.verdicts] == ["honest", "skipper"]
    assert decision.verdicts[1].status is VerdictStatus.ERROR and decision.degraded
    assert decision.outcome is Outcome.NEEDS_REVIEW
