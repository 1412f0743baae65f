"""A response cache for LLM analysts: the same request -> no new call.

Entries live in one SQLite file (stdlib ``sqlite3``, WAL journal so readers do not block the
writer). LLM analysts key an entry by a SHA-256 of the full request as it would be sent
(provider, endpoint, model, prompt, schema, output cap, effort - every setting that changes the
request), so changing any of them misses. The stored payload is the model's validated answer:
never a request, never a header, never an API key. Entries expire after a TTL (default
:data:`DEFAULT_TTL`, three days): an expired entry is a miss and is deleted.
``siem-consensus cache stats|clear`` inspects and empties the file.

Calls are plain synchronous ``sqlite3`` calls on a local file (a primary-key lookup or one
upsert, well under a millisecond), made directly from async code rather than through
``asyncio.to_thread``: the thread hop would cost more than the query. One connection is shared
(``check_same_thread=False``) behind a ``threading.Lock``, so worker threads may use the same
cache too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import Any

from ..errors import InputError, UsageError

__all__ = ["DEFAULT_TTL", "CacheStats", "CacheSummary", "ResponseCache", "case_digest"]

_log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
DEFAULT_TTL = 3 * 24 * 3600.0
"""Seconds an entry stays valid unless the cache is given another ``ttl``."""
_KEY_VERSION = "siem-consensus-cache-key/1"
# Field names that would only appear if someone cached a request or credentials by mistake.
_SECRET_FIELDS = frozenset({"api_key", "apikey", "api-key", "x-api-key", "authorization"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses_v1 (
    key TEXT PRIMARY KEY,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL
)
"""


TTL_ENV = "SIEM_CONSENSUS_CACHE_TTL_DAYS"


def _default_ttl() -> float:
    raw = os.environ.get(TTL_ENV)
    if not raw:
        return DEFAULT_TTL
    try:
        return float(raw) * 24 * 3600
    except ValueError:
        raise UsageError(f"{TTL_ENV}={raw!r} is not a number of days (e.g. 3 or 0.5)") from None


def case_digest(text: str) -> str:
    """SHA-256 hex digest of the exact prompt text sent to the model (after pseudonymization)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheStats:
    """Counters of one :class:`ResponseCache` instance since it was opened."""

    hits: int = 0
    misses: int = 0
    writes: int = 0
    expired: int = 0


@dataclass(frozen=True)
class CacheSummary:
    """What a cache file holds (see :meth:`ResponseCache.summary`)."""

    path: str
    entries: int = 0
    expired: int = 0
    bytes: int = 0
    oldest: float | None = None
    newest: float | None = None


class ResponseCache:
    """Cached analyst answers in a SQLite file, created on first use.

    Use as a context manager or call :meth:`close`. Safe to share between asyncio tasks and
    threads (see the module docstring).

    Example:
        >>> with ResponseCache(tmp_path / "llm-cache.sqlite") as cache:  # doctest: +SKIP
        ...     key = cache.key(case_digest(prompt), "claude", "claude-sonnet-4-5", "v3")
        ...     if (payload := cache.get(key)) is None:
        ...         payload = call_the_model()
        ...         cache.put(key, payload)
    """

    def __init__(
        self,
        path: str | PathLike[str],
        *,
        ttl: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Remember where the cache lives; nothing is opened until first use.

        Args:
            path: SQLite file; it and its parent directories are created when missing.
            ttl: Seconds an entry stays valid (> 0); default ``SIEM_CONSENSUS_CACHE_TTL_DAYS``
                days when that is set, else :data:`DEFAULT_TTL`.
            clock: Wall clock in seconds (inject one in tests).

        Raises:
            UsageError: ``ttl`` (or the variable) is not a positive number.
        """
        ttl = _default_ttl() if ttl is None else ttl
        if not ttl > 0:
            raise UsageError(f"cache ttl must be > 0 seconds, got {ttl}")
        self.path = Path(path)
        self.ttl = ttl
        self._clock = clock
        self._expired = 0
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._hits = 0
        self._misses = 0
        self._writes = 0

    @staticmethod
    def key(case_digest: str, analyst: str, model: str, prompt_version: str) -> str:
        """Cache key (SHA-256 hex) of one analyst's answer to one case.

        Args:
            case_digest: :func:`case_digest` of the prompt text sent.
            analyst: Analyst name.
            model: Provider model id.
            prompt_version: Version of the prompt template and output schema.
        """
        parts = [_KEY_VERSION, case_digest, analyst, model, prompt_version]
        return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()

    @property
    def stats(self) -> CacheStats:
        """Hits, misses and writes so far."""
        return CacheStats(
            hits=self._hits, misses=self._misses, writes=self._writes, expired=self._expired
        )

    def get(self, key: str) -> dict[str, Any] | None:
        """The payload stored under ``key``, or None (a miss).

        An entry older than the TTL, or one that no longer decodes as a JSON object, is
        dropped and counted as a miss.

        Raises:
            InputError: The cache file cannot be opened or is not a SQLite database.
        """
        with self._lock:
            row = self._execute(
                "SELECT payload, created_at FROM responses_v1 WHERE key = ?", (key,)
            )
            stale = row is not None and self._clock() - float(row[1]) > self.ttl
            payload = _decode(row[0]) if row is not None and not stale else None
            if stale:
                self._expired += 1
                self._execute("DELETE FROM responses_v1 WHERE key = ?", (key,))
            elif row is not None and payload is None:
                _log.warning("dropping undecodable entry %s from response cache %s", key, self.path)
                self._execute("DELETE FROM responses_v1 WHERE key = ?", (key,))
            if payload is None:
                self._misses += 1
            else:
                self._hits += 1
            return payload

    def put(self, key: str, payload: dict[str, Any]) -> None:
        """Store ``payload`` (the validated answer and its usage) under ``key``, replacing any.

        Raises:
            UsageError: The payload is not JSON-serializable or carries a credential field.
            InputError: The cache file cannot be opened or written.
        """
        text = _encode(payload)
        with self._lock:
            self._execute(
                "INSERT OR REPLACE INTO responses_v1 (key, payload, created_at) VALUES (?, ?, ?)",
                (key, text, self._clock()),
            )
            self._writes += 1

    def summary(self) -> CacheSummary:
        """Entries (expired ones counted apart), payload bytes, oldest and newest write.

        Raises:
            InputError: The cache file cannot be opened or is not a SQLite database.
        """
        with self._lock:
            row = self._execute(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload)), 0), MIN(created_at), "
                "MAX(created_at), COALESCE(SUM(created_at < ?), 0) FROM responses_v1",
                (self._clock() - self.ttl,),
            )
        assert row is not None
        entries, size, oldest, newest, expired = row
        return CacheSummary(str(self.path), entries, expired, size, oldest, newest)

    def clear(self, *, expired_only: bool = False) -> int:
        """Delete every entry (or only the expired ones); returns how many were deleted.

        Raises:
            InputError: The cache file cannot be opened or written.
        """
        where: str = ""
        params: tuple[float, ...] = ()
        if expired_only:
            where, params = "WHERE created_at < ?", (self._clock() - self.ttl,)
        with self._lock:
            conn = self._connection()
            try:
                with conn:
                    deleted = conn.execute(f"DELETE FROM responses_v1 {where}", params).rowcount
            except sqlite3.DatabaseError as exc:
                raise self._unreadable(exc) from exc
        return int(deleted)

    def close(self) -> None:
        """Close the connection; a later call reopens it."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.path)!r})"

    def _execute(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """Run one statement (lock held) and commit; return its first row."""
        conn = self._connection()
        try:
            with conn:
                row: tuple[Any, ...] | None = conn.execute(sql, params).fetchone()
        except sqlite3.DatabaseError as exc:
            raise self._unreadable(exc) from exc
        return row

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10.0, check_same_thread=False)
            _prepare(conn, self.path)
        except (OSError, sqlite3.Error) as exc:
            if conn is not None:
                conn.close()
            raise self._unreadable(exc) from exc
        except InputError:
            assert conn is not None
            conn.close()
            raise
        return conn

    def _unreadable(self, exc: BaseException) -> InputError:
        return InputError(
            f"response cache {self.path} cannot be used ({exc}); if it is corrupt or not a "
            "siem-consensus cache, delete it (it only holds cached answers) or choose another "
            "cache path"
        )


def _prepare(conn: sqlite3.Connection, path: Path) -> None:
    """Switch to WAL, check the schema version and create the table when new."""
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # durable enough for a cache, much faster in WAL
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version not in (0, SCHEMA_VERSION):
        raise InputError(
            f"response cache {path} has schema version {version}, this version of "
            f"siem-consensus uses {SCHEMA_VERSION}; delete the file or choose another cache path"
        )
    with conn:
        conn.execute(_SCHEMA)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _encode(payload: dict[str, Any]) -> str:
    if not isinstance(payload, dict):
        raise UsageError(f"cache payload must be a dict, got {type(payload).__name__}")
    secret = _find_secret_field(payload)
    if secret is not None:
        raise UsageError(
            f"refusing to cache a payload with a {secret!r} field: the cache stores the "
            "model's answer and usage only, never requests or credentials"
        )
    try:
        return json.dumps(payload, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"cache payload is not JSON-serializable: {exc}") from exc


def _find_secret_field(value: Any) -> str | None:
    if isinstance(value, dict):
        for name, item in value.items():
            if isinstance(name, str) and name.lower() in _SECRET_FIELDS:
                return name
            found = _find_secret_field(item)
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for item in value:
            found = _find_secret_field(item)
            if found is not None:
                return found
    return None


def _decode(text: Any) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return None
    return value if isinstance(value, dict) else None
