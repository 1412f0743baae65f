"""Rules for authentication detections, and the baseline analyst's statistic for each kind.

They read the auth detector's statistics: ``failures``, ``successes``, ``targeted``,
``background``, ``internal_source``, ``specific_accounts``, ``distinct_accounts``,
``distinct_sources``, ``invalid_accounts`` and ``rule`` (``observed``, ``threshold``).

The judgement a senior analyst applies to password guessing: a success after failures is a
likely compromise; guessing aimed at this site (an internal source, or existing accounts that
are not the names every internet scanner tries) is a threat; *internet background* (external
sources, only common or non-existent names, no success) is hostile but not an incident worth a
human, so it is called benign (noise) with a confidence that falls as the volume grows.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ._rules_base import Judgement, KindRule, Stats, as_number, count, flag, items, mapping

__all__ = ["AUTH_BASELINE", "AUTH_CATEGORIES", "AUTH_RULES"]

_BLOCK = "Block the source address(es) at the perimeter (recommend; needs approval)"
_HARDEN = "Require keys or MFA for remote logins and disable password authentication"


def _breadth(stats: Stats) -> float:
    rule = mapping(stats, "rule")
    observed = as_number(rule.get("observed")) or 0.0
    threshold = as_number(rule.get("threshold")) or 0.0
    threshold = threshold if threshold > 0 else 1.0  # a missing or non-positive rule: 1
    return min(1.0, math.log10(observed / threshold)) if observed > threshold else 0.0


def _context(stats: Stats) -> list[str]:
    why = []
    if flag(stats, "internal_source"):
        why.append("an internal source is guessing passwords")
    accounts = items(stats, "specific_accounts")
    if accounts:
        why.append(f"existing site accounts targeted: {', '.join(map(str, accounts[:5]))}")
    if flag(stats, "background"):
        why.append("external sources, only common or non-existent account names, no success")
    return why


def _guessing(label: str) -> Callable[[Stats], Judgement]:
    def judge(stats: Stats) -> Judgement:
        failures = count(stats, "failures")
        why = [f"{label}: {failures} failed attempts", *_context(stats)]
        if count(stats, "successes") > 0:
            return True, 0.9, [*why, "a login succeeded"]
        if flag(stats, "targeted"):
            return True, min(0.95, 0.75 + 0.15 * _breadth(stats)), why
        # Background noise: confident it is not worth a human at ordinary volumes, less so
        # when the volume is far beyond the rule (something may be different about it).
        return False, max(0.6, 0.85 - 0.2 * _breadth(stats)), [*why, "internet background"]

    return judge


def _background(stats: Stats) -> Judgement:
    sources, failures = count(stats, "distinct_sources"), count(stats, "failures")
    why = [
        f"{sources} external sources, {failures} failures, only common or non-existent names",
        "no login succeeded: internet background noise of an exposed service",
    ]
    return False, 0.85, why


def _success(stats: Stats) -> Judgement:
    failures = count(mapping(stats, "rule"), "observed") or count(stats, "failures")
    why = [f"a successful login after {failures} failures", *_context(stats)]
    confidence = 0.85 + 0.05 * flag(stats, "targeted") + 0.05 * _breadth(stats)
    return True, min(0.97, confidence), [*why, "the guessed credential may be in use"]


AUTH_RULES: dict[str, KindRule] = {
    "background_guessing": KindRule(
        category="credential_access",
        goal="find any host with a default or weak password, anywhere on the internet",
        impact="none unless a password is weak; it shows which services are exposed",
        actions=(_HARDEN, "Restrict who may reach the service (VPN, allow-list)"),
        judge=_background,
    ),
    "success_after_failures": KindRule(
        category="account_compromise",
        goal="log in with a guessed credential and gain a foothold",
        impact="an attacker holds a working login on the host",
        actions=(
            "Disable or reset the account's credentials (recommend; needs approval)",
            "Review the session: commands run, files changed, onward connections",
            _BLOCK,
            _HARDEN,
        ),
        judge=_success,
    ),
    "account_brute_force": KindRule(
        category="credential_access",
        goal="guess the password of one account",
        impact="account takeover if the password is weak",
        actions=(_BLOCK, "Check the account for a successful login from the source", _HARDEN),
        judge=_guessing("password guessing on one account"),
    ),
    "password_spraying": KindRule(
        category="credential_access",
        goal="find one account with a common password among many",
        impact="account takeover across the user population, under lockout thresholds",
        actions=(_BLOCK, "Force a reset of weak passwords on the sprayed accounts", _HARDEN),
        judge=_guessing("password spraying"),
    ),
    "distributed_brute_force": KindRule(
        category="credential_access",
        goal="guess one account's password from many addresses to avoid per-source blocking",
        impact="account takeover despite source-based rate limiting",
        actions=(_BLOCK, "Lock or protect the targeted account with MFA", _HARDEN),
        judge=_guessing("distributed guessing"),
    ),
    "user_enumeration": KindRule(
        category="credential_access",
        goal="find which account names exist, guessing passwords on the way",
        impact="a list of valid accounts for later targeted guessing",
        actions=(_BLOCK, "Make login errors identical for valid and invalid accounts", _HARDEN),
        judge=_guessing("non-existent account names tried"),
    ),
}
"""Rules by auth detection kind."""

AUTH_BASELINE: dict[str, tuple[str, str, str, str]] = {
    "background_guessing": (
        "max_failures_one_source",
        "failures_mean",
        "failures_std",
        "failures of its busiest source",
    ),
    "success_after_failures": (
        "failures_before_success",
        "login_failures_mean",
        "login_failures_std",
        "failures before the login",
    ),
    "account_brute_force": ("failures", "failures_mean", "failures_std", "failures"),
    "password_spraying": ("distinct_accounts", "accounts_mean", "accounts_std", "accounts"),
    "distributed_brute_force": ("distinct_sources", "sources_mean", "sources_std", "sources"),
    "user_enumeration": (
        "invalid_accounts",
        "invalid_users_mean",
        "invalid_users_std",
        "non-existent account names",
    ),
}
"""Baseline analyst: (incident statistic, population mean key, std key, label) per kind."""

AUTH_CATEGORIES: dict[str, str] = {kind: rule.category for kind, rule in AUTH_RULES.items()}
"""Baseline analyst: category reported for a threat, per kind."""
