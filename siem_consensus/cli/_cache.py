"""``siem-consensus cache stats|clear``: what the LLM response cache holds, and emptying it."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from ..errors import UsageError
from ._options import CACHE

__all__ = ["run_cache"]


def run_cache(args: argparse.Namespace) -> int:
    """Print the cache's entries, size and age, or delete entries (all, or only expired)."""
    from ..analysts.cache import ResponseCache

    path = Path(args.cache or CACHE).expanduser()
    if args.ttl_days is not None and not args.ttl_days > 0:
        raise UsageError(f"--ttl-days must be > 0, got {args.ttl_days:g}")
    ttl = None if args.ttl_days is None else args.ttl_days * 24 * 3600
    if not path.exists():
        print(f"{path}: no cache file (nothing cached yet)")
        return 0
    with ResponseCache(path, ttl=ttl) as cache:
        if args.action == "clear":
            deleted = cache.clear(expired_only=args.expired)
            kind = "expired entries" if args.expired else "entries"
            print(f"{path}: deleted {deleted} {kind}")
            return 0
        summary = cache.summary()
    print(f"cache:   {summary.path}")
    print(f"entries: {summary.entries} ({summary.expired} expired, ttl {cache.ttl / 86400:g} days)")
    print(f"size:    {summary.bytes:,} bytes of answers")
    print(f"oldest:  {_when(summary.oldest)}")
    print(f"newest:  {_when(summary.newest)}")
    return 0


def _when(stamp: float | None) -> str:
    if stamp is None:
        return "-"
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")
