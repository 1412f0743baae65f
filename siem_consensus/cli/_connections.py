"""``--from``/``--to``: a run's source and sinks from configured SIEM connections."""

from __future__ import annotations

import argparse
import contextlib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..errors import UsageError

__all__ = ["check_inputs", "connections"]


def check_inputs(args: argparse.Namespace) -> None:
    """Fail before any work on a flag combination that cannot run or a path naming nothing."""
    if args.from_ and args.paths:
        raise UsageError("give input PATHs or --from CONNECTION QUERY, not both")
    if not args.from_ and not args.paths:
        raise UsageError("no input: give PATHs ('-' for stdin) or --from CONNECTION QUERY")
    if not args.from_ and (args.start or args.end):
        raise UsageError("--start/--end bound a --from search; filter files before reading")
    if len(args.paths) == 1:
        from ..parsers.inputs import expand_path

        expand_path(args.paths[0])  # a single input that names nothing: exit 3 now


def connections(args: argparse.Namespace, stack: contextlib.ExitStack) -> tuple[Any, list[Any]]:
    """The run's source (paths or a connector search) and its sinks, closed by ``stack``."""
    check_inputs(args)
    source: Any = [Path(p) for p in args.paths]
    if not args.from_ and not args.to:
        return source, []
    from ..connectors import load_connector_config

    start, end = _when(args.start, "--start"), _when(args.end, "--end")
    if start is not None and end is not None and start >= end:
        raise UsageError(f"--start ({start.isoformat()}) must be before --end ({end.isoformat()})")
    config = load_connector_config(args.connectors)
    opened: dict[str, Any] = {}  # one connector per connection, also when it is source and sink

    def connection(name: str) -> Any:
        if name not in opened:
            opened[name] = stack.enter_context(_create(config, name))
        return opened[name]

    if args.from_:
        name, query = args.from_
        source = connection(name).search(_query(query), start=start, end=end)
    sinks = [connection(name) for name in dict.fromkeys(args.to)]  # --to X twice: written once
    return source, sinks


def _create(config: Any, name: str) -> Any:
    """The connector of connection ``name``; a bad setting is a ConfigError that never shows
    a setting's value (a password, or a ``${VAR}`` resolved from the environment)."""
    from ..errors import ConfigError

    try:
        return config.create(name)
    except ConfigError as exc:
        raise ConfigError(_redact(str(exc), config, name)) from None
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        where = f"{config.path} [connectors.{name}]"
        detail = _redact(f"{type(exc).__name__}: {exc}", config, name)
        raise ConfigError(
            f"{where}: a setting is not usable ({detail}); see docs/connectors.md"
        ) from None


def _redact(text: str, config: Any, name: str) -> str:
    """``text`` without any setting value of ``name`` and without user:password@ in URLs."""
    text = re.sub(r"//[^/@\s]+@", "//***@", text)
    try:
        settings = config.settings(name)
    except Exception:  # the values cannot be resolved: nothing of them can be in text
        return text
    values: list[str] = []
    for value in settings.values():
        items = value if isinstance(value, list | tuple) else [value]
        values.extend(str(v) for v in items if not isinstance(v, bool))
    for value in sorted(set(values), key=len, reverse=True):
        if len(value) >= 3:
            text = text.replace(value, "***").replace(repr(value), "'***'")
    return text


def _query(text: str) -> Any:
    """A JSON object is query DSL; '*' or '' is everything; anything else is passed as is."""
    text = text.strip()
    if text in ("", "*"):
        return None
    if text.startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--from QUERY looks like JSON but is not: {exc}") from None
    return text


def _when(text: str | None, option: str) -> datetime | None:
    """ISO 8601 (naive = UTC), 'now', or relative to now: -15m, -24h, -7d."""
    if text is None:
        return None
    now = datetime.now(UTC)
    relative = re.fullmatch(r"-(\d+)([smhd])", text.strip())
    if relative:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[relative[2]]
        return now - timedelta(**{unit: int(relative[1])})
    if text.strip() == "now":
        return now
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{option} {text!r}: give ISO 8601 (2024-05-01T00:00:00Z), 'now' or -15m/-24h/-7d"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
