"""Two reviewer processes answer the same pending approval at the same moment, many times.

Each trial copies a checkpoint holding one pending alert (two actions), releases both worker
processes from a barrier and lets them call ``decide_approval``: exactly one answer must win,
the other must be refused naming the winner, and the action log must hold exactly what the
winner approved.
"""

from __future__ import annotations

import asyncio
import json
import queue
import shutil
import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from approval_app import ACTIONS, memory_dir, processes, race_worker, start_small

from siem_consensus.graphs.approval import SqliteActionLog

TRIALS = 100
WAIT = 60  # seconds; every wait on a worker process is bounded


class Reviewers:
    """Two long-lived reviewer processes, reused by every trial."""

    def __init__(self, root: Path) -> None:
        ctx = processes()
        self.results: Any = ctx.Queue()
        self.jobs: list[Any] = [ctx.Queue(), ctx.Queue()]
        self.barrier: Any = ctx.Barrier(2)  # kept: its semaphore must outlive the start-up
        self.procs = [
            ctx.Process(target=race_worker, args=(jobs, self.results, self.barrier), daemon=True)
            for jobs in self.jobs
        ]
        for proc in self.procs:
            proc.start()
        self.template = root / "template.sqlite"
        asyncio.run(start_small(self.template, root / "template-actions.sqlite"))
        assert not Path(f"{self.template}-wal").exists()  # the copy must be the whole database
        self.root, self.trials = root, 0

    def race(self, first: tuple[str, list[str]], second: tuple[str, list[str]]) -> dict[str, Any]:
        """One trial; the two answers swap processes every other trial."""
        self.trials += 1
        db, log = self.root / f"t{self.trials}.sqlite", self.root / f"t{self.trials}-actions.sqlite"
        shutil.copyfile(self.template, db)
        answers = (first, second) if self.trials % 2 else (second, first)
        for jobs, (by, approve) in zip(self.jobs, answers, strict=True):
            jobs.put((str(db), str(log), by, approve))
        try:
            got = [self.results.get(timeout=WAIT) for _ in answers]
        except queue.Empty:
            alive = [proc.is_alive() for proc in self.procs]
            raise AssertionError(
                f"trial {self.trials}: no answer in {WAIT}s; alive: {alive}"
            ) from None
        return {"results": got, "db": db, "log": log}

    def close(self) -> None:
        for jobs in self.jobs:
            jobs.put(None)
        for proc in self.procs:
            proc.join(timeout=WAIT)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=WAIT)


@pytest.fixture(scope="module")
def reviewers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reviewers]:
    with memory_dir(tmp_path_factory.mktemp("races")) as root:
        pool = Reviewers(root)
        try:
            yield pool
        finally:
            pool.close()


def _answers(db: Path) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(db)) as con:
        rows = con.execute("SELECT answered_by, approve FROM approval_answers").fetchall()
    return [(str(by), str(approve)) for by, approve in rows]


def _check(trial: dict[str, Any], answers: dict[str, list[str]]) -> str:
    """Exactly one winner, the loser told who won, the log holds the winner's answer."""
    results = trial["results"]
    assert sorted(status for _, status, _ in results) == ["refused", "won"], results
    [winner] = [by for by, status, _ in results if status == "won"]
    [loser_message] = [msg for _, status, msg in results if status == "refused"]
    assert f"already answered by {winner} at " in loser_message
    entries = SqliteActionLog(trial["log"]).entries()
    assert [(e["action"], e["approved_by"]) for e in entries] == [
        (action, winner) for action in answers[winner]
    ]
    assert [by for by, _ in _answers(trial["db"])] == [winner]
    return winner


@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    "answers",
    [
        pytest.param({"alice": ACTIONS, "bob": []}, id="approve-vs-reject"),
        pytest.param({"alice": ACTIONS, "bob": [ACTIONS[1]]}, id="approve-vs-approve"),
    ],
)
def test_exactly_one_answer_wins_every_race(
    reviewers: Reviewers, answers: dict[str, list[str]]
) -> None:
    (a, a_approve), (b, b_approve) = answers.items()
    wins = Counter(
        _check(reviewers.race((a, a_approve), (b, b_approve)), answers) for _ in range(TRIALS)
    )
    print(f"wins over {TRIALS} trials: {dict(wins)}")
    assert sum(wins.values()) == TRIALS


@pytest.mark.timeout(300)
def test_the_same_answer_sent_twice_at_once_is_recorded_once(reviewers: Reviewers) -> None:
    # Same reviewer, same actions, e.g. a double-clicked button: one run records, one is told.
    for _ in range(TRIALS // 4):
        trial = reviewers.race(("alice", ACTIONS), ("alice", ACTIONS))
        assert sorted(status for _, status, _ in trial["results"]) == ["refused", "won"]
        entries = SqliteActionLog(trial["log"]).entries()
        assert [e["action"] for e in entries] == ACTIONS
        assert _answers(trial["db"]) == [("alice", json.dumps(ACTIONS))]
