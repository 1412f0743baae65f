"""Thresholds of the authentication detector (one pydantic model, every field documented).

The defaults are starting points measured against the loghub OpenSSH sample and the seeded
generator (see docs/auth.md and docs/evaluation.md): tune them on your own data.
"""

from __future__ import annotations

import ipaddress
from functools import cache, lru_cache

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["COMMON_ACCOUNTS", "AuthThresholds"]

COMMON_ACCOUNTS: frozenset[str] = frozenset(
    ("root", "admin", "administrator", "test", "guest", "user", "oracle", "postgres", "mysql")
    + ("ftp", "ftpuser", "pi", "ubuntu", "ubnt", "support", "git", "www-data", "nagios")
    + ("hadoop", "deploy", "centos", "ec2-user", "sshd", "uucp", "nobody", "operator", "backup")
)
"""Account names that internet-wide password guessing tries on every host it finds: attempts
only on these (or on accounts that do not exist) are *background*, not aimed at this site."""

_RFC1918 = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")


class AuthThresholds(BaseModel):
    """Configuration of :class:`~siem_consensus.detectors.auth.AuthDetector`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window_s: int = Field(
        86_400,
        gt=0,
        description="Length of one detection window (tumbling, aligned on the epoch), seconds. "
        "A day catches slow guessing that stays under any per-minute lockout.",
    )
    allowed_lateness_s: int | None = Field(
        None,
        ge=0,
        description="Once windows are being closed, how far behind the newest timestamp an "
        "event may arrive and still count; None means one window.",
    )
    max_open_rows: int = Field(
        200_000,
        ge=0,
        description="Aggregated (window, source, account, host) rows kept before the windows "
        "past the lateness horizon are evaluated and dropped (bounded memory). Until then "
        "inputs in any time order give exact results; later, older events count as `late`.",
    )
    brute_force_failures: int = Field(
        10,
        ge=1,
        description="Brute force on one account: at least this many failed attempts from one "
        "source on one account of one host within a window.",
    )
    spray_min_accounts: int = Field(
        5,
        ge=2,
        description="Password spraying: one source fails on at least this many distinct "
        "existing accounts within a window...",
    )
    spray_max_failures_per_account: float = Field(
        3.0,
        gt=0,
        description="...with a median of at most this many failures per account (a few "
        "passwords across many accounts, staying under lockout).",
    )
    distributed_min_sources: int = Field(
        5,
        ge=2,
        description="Distributed brute force: at least this many sources, each under "
        "`brute_force_failures`, fail on one account of one host within a window...",
    )
    distributed_min_failures: int = Field(
        20, ge=1, description="...with at least this many failures between them."
    )
    enumeration_min_invalid_users: int = Field(
        5,
        ge=1,
        description="Invalid-user enumeration: one source tries at least this many distinct "
        "account names the server reports as non-existent within a window.",
    )
    success_min_failures: int = Field(
        5,
        ge=1,
        description="Success after failures: a source logs in successfully after at least this "
        "many failures of its own (on any account) within the window...",
    )
    success_min_account_failures: int = Field(
        20,
        ge=1,
        description="...or logs in to an account that failed at least this many times (from any "
        "source) before the success within the window.",
    )
    pool_background: bool = Field(
        True,
        description="Pool the internet background findings (external sources, no success, only "
        "common, non-existent or unnamed accounts) of one host and window into one "
        "`background_guessing` incident listing the sources; off keeps one incident per finding.",
    )
    common_accounts: frozenset[str] = Field(
        COMMON_ACCOUNTS,
        description="Account names (lower case) that count as internet background guessing.",
    )
    internal_networks: tuple[str, ...] = Field(
        _RFC1918, description="CIDRs that are 'inside': attempts from there are targeted."
    )
    invalid_user_actions: frozenset[str] = Field(
        frozenset({"invalid_user"}),
        description="`event_action` values (lower case) saying the account does not exist.",
    )
    failure_outcomes: frozenset[str] = Field(
        frozenset({"failure", "failed", "fail"}),
        description="`event_outcome` values (lower case) of a failed attempt.",
    )
    success_outcomes: frozenset[str] = Field(
        frozenset({"success", "succeeded"}),
        description="`event_outcome` values (lower case) of a successful attempt.",
    )
    evidence_limit: int = Field(30, ge=1, le=1000, description="Evidence events per incident.")
    max_entities: int = Field(
        200,
        ge=1,
        description="Sources, accounts and hosts listed per incident, the busiest first (all "
        "are counted); membership (`--members`) covers the listed ones.",
    )

    @field_validator("internal_networks")
    @classmethod
    def _check_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for cidr in value:
            ipaddress.ip_network(cidr, strict=False)
        return value

    @property
    def window_us(self) -> int:
        """Window length in microseconds."""
        return self.window_s * 1_000_000

    @property
    def lateness_us(self) -> int:
        """Allowed lateness in microseconds."""
        late = self.window_s if self.allowed_lateness_s is None else self.allowed_lateness_s
        return late * 1_000_000

    def is_internal(self, address: str | None) -> bool:
        """True when ``address`` lies in :attr:`internal_networks` (False if not an IP)."""
        return _internal(address, self.internal_networks) if address else False

    def is_common(self, account: str | None) -> bool:
        """True for an account name internet-wide guessing tries everywhere."""
        return account is not None and account.lower() in self.common_accounts


@cache
def _networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


@lru_cache(maxsize=65_536)
def _internal(address: str, cidrs: tuple[str, ...]) -> bool:
    """Cached: a window's sources are looked up again for every finding they are in."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in _networks(cidrs))
