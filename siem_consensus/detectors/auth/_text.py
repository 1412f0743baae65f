"""Titles, reasons and ATT&CK mapping of authentication incidents.

ATT&CK (T1110 Brute Force, Credential Access) and why:

* ``account_brute_force``: T1110.001 Password Guessing (many passwords, one account).
* ``distributed_brute_force``: T1110.001 too: guessing one account, spread over sources.
* ``password_spraying``: T1110.003 Password Spraying (few passwords, many accounts).
* ``user_enumeration``: T1110 Brute Force only: guessing names and passwords together cannot be
  told apart from the log (the passwords are not logged).
* ``background_guessing``: T1110 Brute Force: a pool of guessing, spraying and enumeration.
* ``success_after_failures``: T1110 Brute Force and T1078 Valid Accounts (Initial Access): a
  guessed credential that worked. Credential Stuffing (T1110.004) needs knowledge of leaked
  credential pairs, which a log does not show, so no detection cites it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ...enrich.attack import attack_ref
from ...models import AttackRef
from ._config import AuthThresholds

__all__ = ["attack_for", "reasons_for", "title_for"]

_TECHNIQUES: dict[str, tuple[tuple[str, str | None], ...]] = {
    "account_brute_force": (("T1110.001", None),),
    "distributed_brute_force": (("T1110.001", None),),
    "password_spraying": (("T1110.003", None),),
    "user_enumeration": (("T1110", None),),
    "success_after_failures": (("T1110", None), ("T1078", "initial-access")),
    "background_guessing": (("T1110", None),),
}


@cache
def attack_for(kind: str) -> tuple[AttackRef, ...]:
    """Validated ATT&CK techniques of an incident kind."""
    return tuple(attack_ref(tid, tactic) for tid, tactic in _TECHNIQUES[kind])


def _on(stats: dict[str, Any]) -> str:
    hosts = stats["hosts"]
    return f" on {hosts[0]}" if len(hosts) == 1 else f" on {stats['distinct_hosts']} hosts"


def _who(stats: dict[str, Any]) -> str:
    accounts = stats["accounts"]
    if not accounts:
        return "unnamed accounts"
    return accounts[0] if len(accounts) == 1 else f"{stats['distinct_accounts']} account names"


def title_for(kind: str, stats: dict[str, Any]) -> str:
    """One-line summary, e.g. ``Brute force: 1.2.3.4 failed 286 times as root on web01``."""
    source = stats["sources"][0] if stats["sources"] else "?"
    on = _on(stats) if stats["hosts"] else ""
    if kind == "success_after_failures":
        return (
            f"Login after failures: {stats.get('source_ip') or source} logged in as "
            f"{stats.get('user_name') or 'an unnamed account'}{on} after "
            f"{stats['rule']['observed']} failures"
        )
    if kind == "account_brute_force":
        user = stats["accounts"][0] if stats["accounts"] else "an unnamed account"
        return f"Brute force: {source} failed {stats['failures']} times as {user}{on}"
    if kind == "background_guessing":
        return (
            f"Internet background: {stats['distinct_sources']} sources failed "
            f"{stats['failures']} times as {_who(stats)}{on}"
        )
    if kind == "password_spraying":
        return f"Password spraying: {source} tried {stats['distinct_accounts']} accounts{on}"
    if kind == "distributed_brute_force":
        return (
            f"Distributed brute force: {stats['distinct_sources']} sources failed "
            f"{stats['failures']} times as {_who(stats)}{on}"
        )
    return (
        f"Invalid-user enumeration: {source} tried {stats['rule']['observed']} "
        f"non-existent accounts{on}"
    )


def _rule_text(kind: str, stats: dict[str, Any], cfg: AuthThresholds) -> str:
    observed = stats["rule"]["observed"]
    if kind == "success_after_failures":
        whose = "its own" if stats.get("via") == "source" else "the account's"
        limit = (
            cfg.success_min_failures
            if stats.get("via") == "source"
            else (cfg.success_min_account_failures)
        )
        return (
            f"A successful login after {observed} of {whose} failures (rule: at least {limit} "
            "failures before a success within a window)."
        )
    if kind == "background_guessing":
        pooled = ", ".join(f"{n} {k}" for k, n in stats.get("pooled", {}).items())
        return (
            f"{observed} external sources guessing only common or non-existent account names "
            f"without success, pooled per host and window ({pooled})."
        )
    if kind == "account_brute_force":
        return (
            f"{observed} failures from one source on one account (rule: at least "
            f"{cfg.brute_force_failures} within a window)."
        )
    if kind == "password_spraying":
        per = stats["failures"] / max(stats["distinct_accounts"], 1)
        return (
            f"Failures on {observed} existing accounts, {per:.1f} per account (rule: at least "
            f"{cfg.spray_min_accounts} accounts, at most {cfg.spray_max_failures_per_account:g} "
            "per account)."
        )
    if kind == "distributed_brute_force":
        return (
            f"{observed} sources, each under {cfg.brute_force_failures} failures, failed "
            f"{stats['failures']} times on one account (rule: at least "
            f"{cfg.distributed_min_sources} sources and {cfg.distributed_min_failures} failures)."
        )
    return (
        f"{observed} account names the server reports as non-existent (rule: at least "
        f"{cfg.enumeration_min_invalid_users})."
    )


def reasons_for(kind: str, stats: dict[str, Any], cfg: AuthThresholds) -> tuple[str, ...]:
    """Human sentences, with the numbers, explaining why the incident was raised."""
    hours = stats["duration_s"] / 3600
    reasons = [
        _rule_text(kind, stats, cfg),
        f"{stats['failures']} failed and {stats['successes']} successful attempts from "
        f"{stats['distinct_sources']} source(s) over {hours:.1f} h.",
    ]
    if stats["internal_sources"]:
        reasons.append(f"Internal source(s): {', '.join(stats['internal_sources'][:5])}.")
    if stats["specific_accounts"]:
        reasons.append(
            "Existing accounts that are not common guessing targets: "
            f"{', '.join(stats['specific_accounts'][:5])}."
        )
    if stats["background"]:
        reasons.append(
            "Internet background: external sources, only common or non-existent account "
            "names, no success."
        )
    if stats["successes"]:
        reasons.append(f"{stats['successes']} successful login(s): the credential may be known.")
    return tuple(reasons)
