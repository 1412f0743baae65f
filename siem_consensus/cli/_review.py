"""``review list|approve|reject``: answer the insider graph's pending approvals, once each."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import UsageError

__all__ = ["run_review"]


def _print_pending(items: list[Any]) -> None:
    for item in items:
        conf = "-" if item.confidence is None else f"{item.confidence:.2f}"
        print(f"{item.id}  users={','.join(item.users) or '-'}  confidence={conf}  {item.title}")
        if item.answered_by:
            print(
                f"    answered by {item.answered_by} at {item.answered_at}, not finished: "
                "re-send that same answer to complete it"
            )
        for n, action in enumerate(item.actions, 1):
            print(f"    {n}. {action}")


def _print_outcome(final: dict[str, Any], approval_id: str, approve: list[str]) -> None:
    incident = approval_id.rpartition("/")[2]
    for entry in final.get("actions_log", []):
        if entry["incident_id"] != incident:
            continue  # the thread's other alerts, answered earlier
        if entry.get("newly_recorded", True):
            print(f"approved and recorded: {entry['action']} ({incident})")
        else:
            print(f"approved, already recorded before: {entry['action']} ({incident})")
    if not approve:
        print(f"rejected all actions of {approval_id}; nothing recorded")


def run_review(args: argparse.Namespace) -> int:
    from ..graphs.approval import SqliteActionLog
    from ..graphs.insider import build_insider_graph
    from ..review import decide_approval, list_pending

    log = SqliteActionLog(args.actions_log)

    def build(saver: Any) -> Any:
        return build_insider_graph(checkpointer=saver, action_sink=log)

    if args.action == "list":
        _print_pending(list_pending(args.checkpoint, build))
        return 0
    if not args.id or not args.by:
        raise UsageError("approve/reject need an approval id and --by NAME (see: review list)")
    approve: list[str] = []
    if args.action == "reject":
        if args.approve:
            raise UsageError(
                "reject takes no --action: it rejects every action of the alert; to approve "
                "some of them, use: review approve ID --action TEXT"
            )
    else:
        pending = {p.id: p for p in list_pending(args.checkpoint, build)}
        approve = args.approve or (pending[args.id].actions if args.id in pending else [])
    final = decide_approval(
        args.checkpoint, build, args.id, approve=approve, by=args.by, note=args.note, action_log=log
    )
    _print_outcome(final, args.id, approve)
    return 0
