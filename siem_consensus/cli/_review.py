"""``review list|approve|reject``: answer the insider graph's pending approvals."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import UsageError

__all__ = ["run_review"]


def run_review(args: argparse.Namespace) -> int:
    from ..graphs.approval import SqliteActionLog
    from ..graphs.insider import build_insider_graph
    from ..review import decide_approval, list_pending

    def build(saver: Any) -> Any:
        return build_insider_graph(
            checkpointer=saver, action_sink=SqliteActionLog(args.actions_log)
        )

    if args.action == "list":
        for item in list_pending(args.checkpoint, build):
            conf = "-" if item.confidence is None else f"{item.confidence:.2f}"
            print(
                f"{item.id}  users={','.join(item.users) or '-'}  confidence={conf}  {item.title}"
            )
            for n, action in enumerate(item.actions, 1):
                print(f"    {n}. {action}")
        return 0
    if not args.id or not args.by:
        raise UsageError("approve/reject need an approval id and --by NAME (see: review list)")
    approve: list[str] = []
    if args.action == "approve":
        pending = {p.id: p for p in list_pending(args.checkpoint, build)}
        approve = args.approve or (pending[args.id].actions if args.id in pending else [])
    final = decide_approval(
        args.checkpoint, build, args.id, approve=approve, by=args.by, note=args.note
    )
    for entry in final.get("actions_log", []):
        print(f"approved and recorded: {entry['action']} ({entry['incident_id']})")
    if not approve:
        print(f"rejected all actions of {args.id}; nothing recorded")
    return 0
