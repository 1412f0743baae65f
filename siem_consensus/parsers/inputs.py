"""Which files a path names: a file, a folder (read recursively) or a glob pattern."""

from __future__ import annotations

import glob
import os
from pathlib import Path

from ..errors import InputError

__all__ = ["expand_path", "looks_like_path"]

_GLOB_CHARS = frozenset("*?[")


def expand_path(path: str | os.PathLike[str]) -> list[tuple[str, Path]]:
    """``(name, file)`` pairs for one input path, in a stable (sorted) order.

    A file is itself, named by its file name (event ids ``{name}:{line}``). A folder is every
    file below it, hidden ones (``.name``) left out, named by their path from the folder's
    parent (``logs/fw/a.log``), so two ``conn.log`` in different folders stay apart. A path
    that does not exist but holds ``*``, ``?`` or ``[`` is a glob (``**`` crosses folders).
    ``-`` is standard input.

    Raises:
        InputError: The path does not exist, a glob matches nothing, or a folder holds no file.
    """
    text = os.fspath(path)
    if text == "-":
        return [("stdin", Path("-"))]
    target = Path(text)
    if target.is_dir():
        return _folder(target)
    if target.exists():
        return [(target.name, target)]
    if _GLOB_CHARS & set(text):
        matches = sorted(glob.glob(text, recursive=True))
        if not matches:
            raise InputError(f"{text}: no file matches this pattern")
        found: list[tuple[str, Path]] = []
        for match in matches:
            found.extend(expand_path(match))
        return found
    raise InputError(f"{text}: no such file")


def _folder(folder: Path) -> list[tuple[str, Path]]:
    top = folder.resolve().name or "root"
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    if not files:
        raise InputError(f"{folder}: folder holds no file")
    return [(f"{top}/{p.relative_to(folder).as_posix()}", p) for p in files]


def looks_like_path(text: str) -> bool:
    """Whether a ``str`` item of a source list names a file rather than being a log line.

    A log line is long, holds spaces or starts with ``{``; a path is short, has no newline,
    and exists or has a log-file suffix (``.log``, ``.json``, ``.gz``, ...).
    """
    if not text or len(text) > 4096 or "\n" in text or text.lstrip().startswith(("{", "[")):
        return False
    if os.path.exists(text):
        return True
    suffixes = (".log", ".json", ".jsonl", ".ndjson", ".csv", ".gz", ".txt", ".tsv", ".eve")
    return " " not in text and text.lower().endswith(suffixes)
