"""CERT inputs: which files of a directory are CERT event files, and the LDAP snapshots.

CERT releases ship the event CSVs side by side with an ``LDAP/`` directory of monthly
snapshots (``LDAP/2010-01.csv``, ...) of the organisation: one row per employee with
``employee_name,user_id,email,role,business_unit,functional_unit,department,team,supervisor``.
An employee missing from later snapshots has left.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import polars as pl

from ...errors import InputError
from ..base import MAX_LINE_CHARS
from ._layout import KINDS, sniff_combined, sniff_kind

__all__ = ["LDAP_COLUMNS", "CertInputs", "cert_format", "cert_inputs", "read_ldap"]

LDAP_COLUMNS: Final = (
    "user_id",
    "employee_name",
    "email",
    "role",
    "business_unit",
    "functional_unit",
    "department",
    "team",
    "supervisor",
)
"""Columns of :func:`read_ldap` (before ``first_month`` and ``last_month``)."""

_MONTH: Final = re.compile(r"[0-9]{4}-[0-9]{2}")
_SNIFF_LINES: Final = 20
_ORDER: Final = [f"cert-{name}" for name in KINDS] + ["cert"]


@dataclass(frozen=True)
class CertInputs:
    """The CERT files found by :func:`cert_inputs`.

    Attributes:
        event_files: Recognised event files, in the order logon, device, file, http, email,
            combined (then by name).
        ldap: The LDAP snapshot directory (or single snapshot file), or None.
    """

    event_files: list[Path]
    ldap: Path | None


def _head(path: Path) -> list[str]:
    """Up to 20 non-blank lines from the start of ``path`` (each read up to the size limit)."""
    lines: list[str] = []
    with path.open("rb") as fh:
        while len(lines) < _SNIFF_LINES:
            raw = fh.readline(MAX_LINE_CHARS + 1)
            if not raw:
                break
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if line.strip():
                lines.append(line)
    return lines


def cert_format(path: str | os.PathLike[str]) -> str | None:
    """The CERT parser name (``cert-logon``, ..., ``cert``) for a file, or None if none fits."""
    lines = _head(Path(path))
    if not lines:
        return None
    scores = {f"cert-{name}": sniff_kind(kind, lines) for name, kind in KINDS.items()}
    scores["cert"] = sniff_combined(lines)
    best = max(scores, key=lambda name: scores[name])
    return best if scores[best] >= 0.5 else None


def _is_ldap_file(path: Path) -> bool:
    head = _head(path)[:1]
    return bool(head) and head[0].lstrip("\ufeff").lower().startswith("employee_name,user_id,email")


def _ldap_in(directory: Path) -> Path | None:
    for child in sorted(directory.iterdir()):
        if child.is_dir() and child.name.lower() == "ldap":
            return child
    has_months = any(
        _MONTH.fullmatch(child.stem) and child.suffix == ".csv" for child in directory.iterdir()
    )
    return directory if has_months else None


def _scan(directory: Path) -> tuple[list[tuple[str, Path]], Path | None]:
    found = []
    for child in sorted(directory.iterdir()):
        if child.is_file() and child.stat().st_size and not _MONTH.fullmatch(child.stem):
            fmt = cert_format(child)
            if fmt is not None:
                found.append((fmt, child))
    return found, _ldap_in(directory)


def cert_inputs(path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> CertInputs:
    """Find the CERT event files and LDAP snapshots in a directory or a list of files.

    A directory is searched (not recursively) for files the CERT parsers recognise, by content;
    other files (``psychometric.csv``, ``README``) are ignored, and its ``LDAP`` subdirectory is
    the LDAP input. Files given explicitly must be CERT event files or LDAP snapshots.

    Args:
        path: A directory, a file, or a list of them.

    Raises:
        InputError: a path does not exist, or a file given explicitly is not a CERT file.
    """
    paths = [path] if isinstance(path, str | os.PathLike) else list(path)
    events: list[tuple[str, Path]] = []
    ldap: Path | None = None
    for item in map(Path, paths):
        if not item.exists():
            raise InputError(f"{item}: no such file or directory")
        if item.is_dir():
            found, in_dir = _scan(item)
            events.extend(found)
            ldap = ldap or in_dir
        elif _is_ldap_file(item):
            ldap = ldap or item
        else:
            events.append((_explicit_format(item), item))
    events.sort(key=lambda pair: (_ORDER.index(pair[0]), str(pair[1])))
    return CertInputs([item for _, item in events], ldap)


def _explicit_format(path: Path) -> str:
    fmt = cert_format(path)
    if fmt is None:
        raise InputError(
            f"{path}: not a CERT insider-threat file (logon, device, file, http, email or "
            "combined CSV) nor an LDAP snapshot; check the header row, or pass the file to "
            "EventStream with input_format="
        )
    return fmt


def _snapshot(path: Path) -> pl.DataFrame:
    """One LDAP snapshot as text columns plus ``month`` (from the file name, else null)."""
    try:
        frame = pl.read_csv(path, infer_schema=False, truncate_ragged_lines=True)
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: unreadable LDAP snapshot ({exc})") from None
    frame = frame.rename({name: name.strip().lstrip("\ufeff").lower() for name in frame.columns})
    if "user_id" not in frame.columns:
        raise InputError(
            f"{path}: LDAP snapshot without a user_id column (expected the header "
            f"{','.join(LDAP_COLUMNS)})"
        )
    month = path.stem if _MONTH.fullmatch(path.stem) else None
    return frame.select(
        *(
            (pl.col(name) if name in frame.columns else pl.lit(None, pl.String))
            .str.strip_chars()
            .alias(name)
            for name in LDAP_COLUMNS
        ),
        pl.lit(month, pl.String).alias("month"),
    ).filter(pl.col("user_id").is_not_null() & (pl.col("user_id") != ""))


def _ldap_files(path: Path) -> list[Path]:
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.is_file():
        return [path]
    inner = _ldap_in(path)
    folder = inner if inner is not None else path
    return sorted(
        child
        for child in folder.iterdir()
        if child.suffix == ".csv" and _MONTH.fullmatch(child.stem)
    )


def read_ldap(path: str | os.PathLike[str]) -> pl.DataFrame:
    """The latest LDAP record of every user, with the first and last month they appear.

    Args:
        path: The ``LDAP`` directory of monthly ``YYYY-MM.csv`` snapshots (or a directory
            holding it), or one snapshot file.

    Returns:
        One row per ``user_id``, sorted by it: :data:`LDAP_COLUMNS` from the user's latest
        snapshot, then ``first_month`` and ``last_month`` (``YYYY-MM``; null for a single
        file not named that way). A user whose ``last_month`` is before the latest snapshot's
        month has left.

    Raises:
        InputError: no snapshot found, or a snapshot is unreadable or has no ``user_id``.
    """
    files = _ldap_files(Path(path))
    if not files:
        raise InputError(f"{path}: no LDAP snapshot (LDAP/YYYY-MM.csv) found")
    rows = pl.concat([_snapshot(file) for file in files]).with_row_index("order")
    months = rows.group_by("user_id").agg(
        pl.col("month").min().alias("first_month"), pl.col("month").max().alias("last_month")
    )
    latest = rows.sort("month", "order", nulls_last=False).unique(
        "user_id", keep="last", maintain_order=True
    )
    return (
        latest.join(months, on="user_id")
        .select(*LDAP_COLUMNS, "first_month", "last_month")
        .sort("user_id")
    )
