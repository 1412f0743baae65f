"""``[defaults]`` in ``siem-consensus.toml``: flag values a team sets once.

```toml
[defaults]                 # every detector command
analysts = "rules,baseline"
budget = "$5"
analyst-timeout = 90       # seconds, as --analyst-timeout

[defaults.ids]             # one command; wins over [defaults]
policy = "majority"
threshold = 0.7
```

A flag given on the command line wins over both. The file is the connections file:
``--connectors FILE``, else ``$SIEM_CONSENSUS_CONNECTORS``, else ``./siem-consensus.toml``;
a missing file means no defaults.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ._flags import SEVERITIES
from ._options import FORMATS

__all__ = ["DEFAULT_KEYS", "apply_defaults"]

# key in the TOML -> (attribute of the parsed arguments, its flag, its type)
DEFAULT_KEYS: dict[str, tuple[str, str, type]] = {
    "analysts": ("analysts", "--analysts", str),
    "policy": ("policy", "--policy", str),
    "threshold": ("threshold", "--threshold", float),
    "budget": ("budget", "--budget", str),
    "analyst-timeout": ("analyst_timeout", "--analyst-timeout", float),
    "format": ("format", "--format", str),
    "fail-on": ("fail_on", "--fail-on", str),
    "min-severity": ("min_severity", "--min-severity", str),
    "timezone": ("timezone", "--timezone", str),
    "max-session-span": ("max_session_span", "--max-session-span", str),
}

_CHOICES = {"format": FORMATS, "min_severity": SEVERITIES}


def apply_defaults(args: argparse.Namespace, argv: Sequence[str]) -> None:
    """Fill the flags not given in ``argv`` from the ``[defaults]`` tables of the config."""
    path = Path(
        getattr(args, "connectors", None)
        or os.environ.get("SIEM_CONSENSUS_CONNECTORS")
        or "siem-consensus.toml"
    )
    if not path.is_file():
        return
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    table = data.get("defaults", {})
    if not isinstance(table, Mapping):
        raise ConfigError(f"{path}: [defaults] must be a table")
    own = table.get(args.command, {})
    merged = {k: v for k, v in table.items() if not isinstance(v, Mapping)}
    merged.update(own if isinstance(own, Mapping) else {})
    for key, value in merged.items():
        _apply(args, argv, path, key, value)


def _apply(args: argparse.Namespace, argv: Sequence[str], path: Path, key: str, value: Any) -> None:
    if key not in DEFAULT_KEYS:
        raise ConfigError(
            f"{path} [defaults] {key}: unknown key; valid keys are {', '.join(DEFAULT_KEYS)}"
        )
    dest, flag, kind = DEFAULT_KEYS[key]
    if any(token == flag or token.startswith(flag + "=") for token in argv):
        return  # the command line wins
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind):
        raise ConfigError(f"{path} [defaults] {key}: must be a {kind.__name__}")
    choices = _CHOICES.get(dest)
    if choices is not None and value not in choices:
        raise ConfigError(f"{path} [defaults] {key}: {value!r}; choose from {', '.join(choices)}")
    setattr(args, dest, value)
