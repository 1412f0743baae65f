"""Human approval of recommended actions: an interrupt per alert, then an exactly-once record.

Career- or business-impacting actions (disable an account, block a host, notify HR) are never
executed by the library. After consensus, one ``approve`` task per alert (in parallel) raises
a LangGraph ``interrupt`` listing that alert's recommended actions, so every pending approval
is visible at once; a human answers per action (``siem_consensus.review.decide_approval`` or
``siem-consensus review``), that task resumes from the checkpoint and hands every approved
action to an :class:`ActionSink` exactly once. The default sink,
:class:`SqliteActionLog`, only records the approval (the dry-run every SOC wants first); plug
in a sink that calls your SOAR to act for real.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END
from langgraph.types import Send, interrupt

from ..errors import InputError, UsageError
from .nodes import TriageState

__all__ = [
    "ActionSink",
    "RecordedActions",
    "SqliteActionLog",
    "make_approval_fan_out",
    "make_approve",
    "validate_answer",
]


class ActionSink(Protocol):
    """Receives approved actions. ``record`` must be idempotent on (thread, incident, action)."""

    def record(
        self, thread_id: str, incident_id: str, action: str, approved_by: str, note: str
    ) -> bool:
        """Record (or perform) one approved action; False if it was already recorded."""
        ...


class RecordedActions(Protocol):
    """What an action log can tell a reviewer: the actions already recorded for one alert."""

    def recorded(self, thread_id: str, incident_id: str) -> list[str]:
        """The actions recorded for ``incident_id`` in ``thread_id``, oldest first."""
        ...


class SqliteActionLog:
    """Approved actions in a SQLite table with a unique key: recording twice is a no-op."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute(
                    "CREATE TABLE IF NOT EXISTS approved_actions (thread_id TEXT, incident_id "
                    "TEXT, action TEXT, approved_by TEXT, note TEXT, recorded_at TEXT, "
                    "PRIMARY KEY (thread_id, incident_id, action))"
                )
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{self.path}: not a usable action log ({exc})") from None

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def record(
        self, thread_id: str, incident_id: str, action: str, approved_by: str, note: str
    ) -> bool:
        """Insert the approval unless already there; True when newly recorded."""
        with self._lock, self._connect() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO approved_actions VALUES (?, ?, ?, ?, ?, ?)",
                (thread_id, incident_id, action, approved_by, note, datetime.now(UTC).isoformat()),
            )
            return cursor.rowcount == 1

    def recorded(self, thread_id: str, incident_id: str) -> list[str]:
        """The actions recorded for one alert, oldest first."""
        with self._lock, self._connect() as db:
            rows = db.execute(
                "SELECT action FROM approved_actions WHERE thread_id = ? AND incident_id = ? "
                "ORDER BY recorded_at",
                (thread_id, incident_id),
            ).fetchall()
        return [str(row[0]) for row in rows]

    def entries(self) -> list[dict[str, str]]:
        """Every recorded approval, oldest first."""
        with self._lock, self._connect() as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT * FROM approved_actions ORDER BY recorded_at").fetchall()
        return [dict(row) for row in rows]


def _strings(raw: Mapping[str, Any], key: str) -> list[str]:
    value = raw.get(key, [])
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise UsageError(f"{key!r} must be a list of action texts, got {type(value).__name__}")
    if not all(isinstance(item, str) for item in value):
        raise UsageError(f"{key!r} must be a list of action texts (strings)")
    return list(value)


def validate_answer(raw: Any, actions: Sequence[str]) -> dict[str, Any]:
    """Check a human answer completely and normalise it, before anything is recorded.

    Args:
        raw: ``{"approve": [...], "by": "name", "note": "..."}``; ``"reject"`` may list the
            rejected actions too. Every action must be exactly one of ``actions``.
        actions: The alert's recommended actions, as listed in its interrupt.

    Returns:
        ``{"approve": [...], "reject": [...], "by": ..., "note": ...}`` with both lists in the
        alert's order; every action not approved is rejected.

    Raises:
        UsageError: Not a mapping, an action that is not exactly one of ``actions`` (the
            message lists them), an action both approved and rejected, or no ``by``.
    """
    if not isinstance(raw, Mapping):
        raise UsageError(f"an approval answer must be a mapping, got {type(raw).__name__}")
    approve, reject = _strings(raw, "approve"), _strings(raw, "reject")
    unknown = [a for a in [*approve, *reject] if a not in actions]
    if unknown:
        valid = "; ".join(repr(a) for a in actions)
        raise UsageError(
            f"unknown action(s) {unknown}: an action must be exactly one of this alert's "
            f"recommended actions: {valid}"
        )
    if both := sorted(set(approve) & set(reject)):
        raise UsageError(f"action(s) {both} both approved and rejected")
    by = raw.get("by")
    if not isinstance(by, str) or not by.strip():
        raise UsageError("an approval answer needs 'by': who decided (recorded with it)")
    return {
        "approve": [a for a in actions if a in approve],
        "reject": [a for a in actions if a not in approve],
        "by": by.strip(),
        "note": str(raw.get("note", "")),
    }


def make_approval_fan_out(
    approve: str = "approve", otherwise: str = END
) -> Callable[[TriageState], list[Send] | str]:
    """Conditional edge: one ``approve`` task per alert with recommended actions, in parallel,
    so every pending approval is visible (and answerable) at once."""

    def fan_out(state: TriageState) -> list[Send] | str:
        incidents = {i["id"]: i for i in state.get("incidents", [])}
        sends = [
            Send(approve, {"decision": d, "incident": incidents.get(d["incident_id"], {})})
            for d in state.get("decisions", [])
            if d["outcome"] == "alert" and d.get("recommended_actions")
        ]
        return sends or otherwise

    return fan_out


def _ask(question: dict[str, Any], actions: list[str]) -> dict[str, Any]:
    """Interrupt until a valid answer arrives. An invalid answer asks again (with the error in
    the new interrupt) instead of raising: a raised error would be replayed with the stored
    answer on every later resume of the thread and block every other alert's approval."""
    while True:
        raw = interrupt(question)
        try:
            return validate_answer(raw, actions)
        except UsageError as exc:
            question = {**question, "error": str(exc)}


def make_approve(
    sink: ActionSink | None,
) -> Callable[[Mapping[str, Any], RunnableConfig], dict[str, Any]]:
    """Node: interrupt and ask a human which of one alert's recommended actions to approve,
    then hand the approved ones to ``sink`` (idempotent: a replay records nothing twice).

    Each alert is its own task, so approving one alert records its actions at once, whatever
    the state of the others.
    """

    def approve(task: Mapping[str, Any], config: RunnableConfig) -> dict[str, Any]:
        decision, incident = task["decision"], task["incident"]
        actions = list(decision["recommended_actions"])
        question: dict[str, Any] = {
            "incident_id": decision["incident_id"],
            "title": incident.get("title", ""),
            "users": incident.get("entities", {}).get("users", []),
            "confidence": decision.get("confidence"),
            "actions": actions,
        }
        answer = _ask(question, actions)
        thread = str(config.get("configurable", {}).get("thread_id", "default"))
        log = []
        for action in answer["approve"]:
            fresh = True
            if sink is not None:
                fresh = sink.record(
                    thread, decision["incident_id"], action, answer["by"], answer["note"]
                )
            log.append(
                {
                    "incident_id": decision["incident_id"],
                    "action": action,
                    "approved_by": answer["by"],
                    "newly_recorded": fresh,
                }
            )
        return {"approvals": {decision["incident_id"]: answer}, "actions_log": log}

    return approve
