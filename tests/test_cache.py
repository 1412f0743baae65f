"""The SQLite response cache: keys, round trips, corrupt files, no secrets."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from siem_consensus.analysts.cache import DEFAULT_TTL, CacheStats, ResponseCache, case_digest
from siem_consensus.errors import InputError, UsageError

PAYLOAD = {
    "claims": {"is_threat": True, "confidence": 0.9, "techniques": ["T1046"]},
    "usage": {"calls": 1, "input_tokens": 812, "output_tokens": 140, "cost_usd": 0.0045},
}


def test_case_digest_is_sha256_of_the_exact_text() -> None:
    assert case_digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert case_digest("abc ") != case_digest("abc")


def test_key_changes_with_every_part() -> None:
    base = ("d" * 64, "claude", "claude-sonnet-4-5", "v1")
    key = ResponseCache.key(*base)
    assert len(key) == 64 and int(key, 16) >= 0
    for i in range(4):
        changed = list(base)
        changed[i] += "x"
        assert ResponseCache.key(*changed) != key
    # parts are delimited: moving a character between fields changes the key
    assert ResponseCache.key("ab", "c", "m", "v") != ResponseCache.key("a", "bc", "m", "v")


def test_round_trip_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "llm-cache.sqlite"
    key = ResponseCache.key(case_digest("prompt"), "claude", "claude-sonnet-4-5", "v1")
    with ResponseCache(path) as first:
        assert first.get(key) is None
        first.put(key, PAYLOAD)
        assert first.get(key) == PAYLOAD
        assert first.stats == CacheStats(hits=1, misses=1, writes=1)
    assert path.exists()
    with ResponseCache(path) as second:
        assert second.get(key) == PAYLOAD
        assert second.get("0" * 64) is None
        assert second.stats == CacheStats(hits=1, misses=1, writes=0)


def test_uses_wal_and_a_versioned_schema(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    with ResponseCache(path) as cache:
        cache.put("k", PAYLOAD)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    finally:
        conn.close()


def test_nothing_is_created_before_first_use(tmp_path: Path) -> None:
    ResponseCache(tmp_path / "lazy.sqlite").close()
    assert not (tmp_path / "lazy.sqlite").exists()


def test_put_replaces(tmp_path: Path) -> None:
    with ResponseCache(tmp_path / "c.sqlite") as cache:
        cache.put("k", {"claims": {"a": 1}})
        cache.put("k", {"claims": {"a": 2}})
        assert cache.get("k") == {"claims": {"a": 2}}


def test_corrupt_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"this is not a database, just junk " * 200)
    cache = ResponseCache(path)
    with pytest.raises(InputError, match=r"response cache .*cache\.sqlite.*delete it") as info:
        cache.get("k")
    assert isinstance(info.value.__cause__, sqlite3.DatabaseError)


def test_directory_instead_of_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=str(tmp_path)):
        ResponseCache(tmp_path).put("k", PAYLOAD)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(InputError, match="schema version 99"):
        ResponseCache(path).get("k")


def test_undecodable_entry_is_a_miss_and_dropped(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    with ResponseCache(path) as cache:
        cache.put("k", PAYLOAD)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE responses_v1 SET payload = '{truncated'")
    conn.close()
    with ResponseCache(path) as cache:
        assert cache.get("k") is None
        assert cache.stats.misses == 1
        cache.put("k", PAYLOAD)
        assert cache.get("k") == PAYLOAD


@pytest.mark.parametrize(
    "payload",
    [
        {"claims": {}, "api_key": "sk-ant-123"},
        {"claims": {}, "request": {"headers": {"Authorization": "Bearer x"}}},
        {"claims": {}, "request": [{"X-Api-Key": "x"}]},
    ],
)
def test_refuses_to_store_credentials(tmp_path: Path, payload: dict[str, object]) -> None:
    with ResponseCache(tmp_path / "c.sqlite") as cache, pytest.raises(UsageError, match="never"):
        cache.put("k", payload)


def test_refuses_non_json_payload(tmp_path: Path) -> None:
    with ResponseCache(tmp_path / "c.sqlite") as cache:
        with pytest.raises(UsageError, match="JSON"):
            cache.put("k", {"claims": {1, 2}})
        with pytest.raises(UsageError, match="JSON"):
            cache.put("k", {"confidence": float("nan")})


def test_shared_by_tasks_and_threads(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c.sqlite")

    async def task(i: int) -> dict[str, object] | None:
        cache.put(f"k{i}", {"i": i})
        await asyncio.sleep(0)
        return cache.get(f"k{i}")

    async def main() -> list[dict[str, object] | None]:
        return await asyncio.gather(*(task(i) for i in range(20)))

    assert asyncio.run(main()) == [{"i": i} for i in range(20)]
    threads = [threading.Thread(target=cache.put, args=(f"t{i}", {"t": i})) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [cache.get(f"t{i}") for i in range(8)] == [{"t": i} for i in range(8)]
    cache.close()
    cache.close()  # idempotent


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_the_ttl(tmp_path: Path) -> None:
    clock = _Clock()
    with ResponseCache(tmp_path / "c.sqlite", ttl=100, clock=clock) as cache:
        cache.put("k", PAYLOAD)
        clock.now += 100
        assert cache.get("k") == PAYLOAD  # exactly the TTL: still valid
        clock.now += 1
        assert cache.get("k") is None
        assert cache.stats == CacheStats(hits=1, misses=1, writes=1, expired=1)
        assert cache.summary().entries == 0  # the expired entry was deleted


def test_default_ttl_is_days_and_configurable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ResponseCache(tmp_path / "a.sqlite").ttl == DEFAULT_TTL == 3 * 86400
    monkeypatch.setenv("SIEM_CONSENSUS_CACHE_TTL_DAYS", "0.5")
    assert ResponseCache(tmp_path / "a.sqlite").ttl == 43200
    monkeypatch.setenv("SIEM_CONSENSUS_CACHE_TTL_DAYS", "soon")
    with pytest.raises(UsageError, match="not a number of days"):
        ResponseCache(tmp_path / "a.sqlite")
    with pytest.raises(UsageError, match="ttl must be > 0"):
        ResponseCache(tmp_path / "a.sqlite", ttl=0)


def test_summary_and_clear(tmp_path: Path) -> None:
    clock = _Clock()
    with ResponseCache(tmp_path / "c.sqlite", ttl=100, clock=clock) as cache:
        cache.put("old", PAYLOAD)
        clock.now += 150
        cache.put("new", PAYLOAD)
        summary = cache.summary()
        assert (summary.entries, summary.expired) == (2, 1)
        assert summary.oldest == 1_000_000.0 and summary.newest == 1_000_150.0
        assert summary.bytes > 0
        assert cache.clear(expired_only=True) == 1
        assert cache.get("new") == PAYLOAD
        assert cache.clear() == 1 and cache.summary().entries == 0


def test_cli_cache_stats_and_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from siem_consensus.cli import main

    path = tmp_path / "c.sqlite"
    assert main(["cache", "stats", "--cache", str(path)]) == 0
    assert "no cache file" in capsys.readouterr().out
    with ResponseCache(path) as cache:
        cache.put("a", PAYLOAD)
        cache.put("b", PAYLOAD)
    assert main(["cache", "stats", "--cache", str(path)]) == 0
    out = capsys.readouterr().out
    assert "entries: 2 (0 expired, ttl 3 days)" in out
    assert main(["cache", "clear", "--cache", str(path), "--expired"]) == 0
    assert "deleted 0 expired entries" in capsys.readouterr().out
    assert main(["cache", "clear", "--cache", str(path)]) == 0
    assert "deleted 2 entries" in capsys.readouterr().out
    assert main(["cache", "stats", "--cache", str(path), "--ttl-days", "0"]) == 2
