"""Thresholds of the firewall detector (one pydantic model, every field documented).

Defaults are the book's starting thresholds (``seed/SCENARIOS.md``): tune them on your data.
"""

from __future__ import annotations

import ipaddress
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["AUTH_PORTS", "DENY_ACTIONS", "FirewallThresholds", "IGNORED_ACTIONS", "SENSITIVE_PORTS"]

AUTH_PORTS: frozenset[int] = frozenset(
    (21, 22, 23, 25, 110, 143, 389, 445, 465, 587, 636, 993, 995, 1433, 1521, 3306, 3389, 5432)
    + (5900, 5985, 5986)
)
"""Ports where many attempts mean password guessing: ftp, ssh, telnet, smtp auth, pop/imap,
ldap(s), smb, mssql, oracle, mysql, rdp, postgres, vnc, winrm."""

SENSITIVE_PORTS: frozenset[int] = frozenset({22, 23, 445, 1433, 3306, 3389, 5432, 5900, 8080, 8443})
"""Remote-admin, database and alternate-web ports whose probing weighs more."""

DENY_ACTIONS: frozenset[str] = frozenset(
    ("deny", "denied", "drop", "dropped", "reject", "rejected", "block", "blocked", "no_reply")
    + ("reset-both", "reset-client", "reset-server")
)
"""``event.action`` values (lower case) that mean the firewall refused the connection."""

IGNORED_ACTIONS: frozenset[str] = frozenset(
    ("teardown", "close", "closed", "end", "session_end", "connection_end", "connection-closed")
)
"""Actions closing a connection already counted when it was built: counting them would double
every allowed connection and break inter-arrival statistics."""

_RFC1918 = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")


class FirewallThresholds(BaseModel):
    """Configuration of :class:`~siem_consensus.detectors.firewall.FirewallDetector`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window_s: int = Field(3600, gt=0, description="Length of one detection window, seconds.")
    hops_per_window: int = Field(
        1,
        ge=1,
        le=12,
        description="Windows start every window_s / hops_per_window seconds. 1 gives tumbling "
        "windows (findings in adjacent windows are merged into one incident); with 2, activity "
        "shorter than half a window lies wholly inside one window, so activity split by a "
        "boundary into two halves each under threshold is still caught, at about twice the "
        "detection cost.",
    )
    allowed_lateness_s: int | None = Field(
        None,
        ge=0,
        description="How far behind the newest timestamp an event may arrive and still count "
        "once windows are being closed; None means one window.",
    )
    max_open_rows: int = Field(
        200_000,
        ge=0,
        description="Aggregated rows kept in open windows before the windows past the lateness "
        "horizon are evaluated and dropped. Until then nothing is closed early, so inputs in "
        "any time order (several files covering the same hours) give exact results; once "
        "windows are closed, events older than the horizon are counted as `late` and not "
        "used. 0 closes windows as soon as the horizon passes. About 130 bytes a row, plus "
        "transient copies while windows are evaluated.",
    )
    min_events: int = Field(
        10, ge=1, description="Sources with fewer events in a window are skipped."
    )
    port_scan_ports: int = Field(10, ge=1, description="Port scan: more than this many ports...")
    port_scan_max_hosts: int = Field(3, ge=1, description="...on at most this many hosts.")
    sweep_hosts: int = Field(20, ge=1, description="Network sweep: more than this many hosts...")
    sweep_max_ports: int = Field(5, ge=1, description="...on at most this many ports.")
    brute_force_attempts: int = Field(
        50, ge=1, description="Brute force: more than this many attempts on one host and auth port."
    )
    auth_ports: frozenset[int] = Field(AUTH_PORTS, description="Ports counted for brute force.")
    sensitive_ports: frozenset[int] = Field(SENSITIVE_PORTS, description="Ports adding weight.")
    long_activity_s: int = Field(
        3600, gt=0, description="Activity lasting this long gets the full duration weight."
    )
    beacon_min_connections: int = Field(10, ge=3, description="Beaconing: at least this many.")
    beacon_max_cv: float = Field(
        0.3,
        gt=0,
        description="Beaconing: coefficient of variation of inter-arrival times below this.",
    )
    beacon_min_interval_s: float = Field(
        5.0, ge=0, description="Beaconing: mean interval at least this (bursts are not beacons)."
    )
    beacon_max_deny_ratio: float = Field(
        0.5, ge=0, le=1, description="Beaconing: connections mostly allowed (deny ratio <= this)."
    )
    beacon_internal_sources_only: bool = Field(True, description="Beacons come from inside.")
    beacon_external_destinations_only: bool = Field(
        True, description="Beacons go outside (internal polling is regular and benign)."
    )
    internal_networks: tuple[str, ...] = Field(_RFC1918, description="CIDRs that are 'inside'.")
    count_allowed_outbound: bool = Field(
        False,
        description="Count allowed internal-to-external targets in scan/sweep fan-out "
        "(off: browsing many web servers is not a sweep).",
    )
    long_horizon_s: int | None = Field(
        86_400,
        ge=0,
        description="Second, long horizon (tumbling buckets of this many seconds of log time) "
        "for slow port scans and sweeps that stay under the window rules; 0 or None turns it "
        "off.",
    )
    slow_scan_ports: int = Field(
        9,
        ge=1,
        description="Slow port scan: more than this many ports on at most port_scan_max_hosts "
        "hosts within the long horizon.",
    )
    slow_sweep_hosts: int = Field(
        20,
        ge=1,
        description="Slow network sweep: more than this many hosts on at most sweep_max_ports "
        "ports within the long horizon.",
    )
    slow_min_events: int = Field(
        10, ge=1, description="Sources with fewer events in a long-horizon bucket are skipped."
    )
    long_horizon_max_rows: int = Field(
        300_000,
        ge=1_000,
        description="Rows (one per source, target and bucket, about 150 bytes each) the long "
        "horizon keeps at most; past it the sources with the fewest targets are forgotten first "
        "(counted as horizon_evicted).",
    )
    dga_min_failed_domains: int = Field(
        20,
        ge=1,
        description="DGA-like DNS: at least this many distinct registrable domains answered "
        "NXDOMAIN to one client within one window...",
    )
    dga_max_lookups_per_domain: float = Field(
        3.0,
        gt=0,
        description="...each asked for few times (failed lookups per failed domain at most "
        "this: a generator moves on, a misconfigured name is retried)...",
    )
    dga_min_domains_per_tld: float = Field(
        5.0,
        gt=0,
        description="...under few top-level domains (failed domains per distinct TLD at least "
        "this)...",
    )
    dga_min_algorithmic_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description="...and at least this share of them with an algorithmic-looking name "
        "(see detectors/firewall/_dga_names.py).",
    )
    dga_ignored_sources: tuple[str, ...] = Field(
        (),
        description="CIDRs whose DNS lookups the DGA check ignores: resolvers forwarding for "
        "other hosts, mail servers looking up forged sender domains.",
    )
    dga_max_domains: int = Field(
        5_000,
        ge=1,
        description="Failed domains remembered per client and window (memory bound); more "
        "are counted as dga_domains_uncounted, not stored.",
    )
    dga_beacon_link_s: int = Field(
        86_400,
        ge=0,
        description="DGA-like DNS within this many seconds of a beaconing incident of the same "
        "host is attached to it as supporting evidence instead of raised on its own.",
    )
    deny_actions: frozenset[str] = Field(DENY_ACTIONS, description="Refusal actions, lower case.")
    unanswered_actions: frozenset[str] = Field(
        frozenset({"no_reply"}),
        description="Refusal actions that mean nobody answered (a sensor's view, e.g. Zeek S0) "
        "rather than a firewall's refusal: scans count them as denied, beaconing does not.",
    )
    ignored_actions: frozenset[str] = Field(
        IGNORED_ACTIONS, description="Actions not counted at all (connection teardown), lower case."
    )
    evidence_limit: int = Field(50, ge=1, le=1000, description="Evidence events per incident.")

    @field_validator("long_horizon_s")
    @classmethod
    def _off_at_zero(cls, value: int | None) -> int | None:
        return value or None

    @field_validator("internal_networks", "dga_ignored_sources")
    @classmethod
    def _check_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for cidr in value:
            ipaddress.ip_network(cidr, strict=False)
        return value

    @model_validator(mode="after")
    def _check_hop(self) -> FirewallThresholds:
        if (self.window_s * 1_000_000) % self.hops_per_window:
            raise ValueError("window_s (in microseconds) must divide evenly by hops_per_window")
        if self.long_horizon_s is not None and self.long_horizon_s < self.window_s:
            raise ValueError("long_horizon_s must be at least window_s (or None to turn it off)")
        return self

    @property
    def hop_us(self) -> int:
        """Window start spacing in microseconds."""
        return self.window_s * 1_000_000 // self.hops_per_window

    @property
    def lateness_us(self) -> int:
        """Allowed lateness in microseconds."""
        late = self.window_s if self.allowed_lateness_s is None else self.allowed_lateness_s
        return late * 1_000_000

    @cached_property
    def _networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(c, strict=False) for c in self.internal_networks)

    @cached_property
    def ipv4_ranges(self) -> tuple[tuple[int, int], ...]:
        """First and last address, as integers, of each IPv4 internal network."""
        return tuple(
            (int(net.network_address), int(net.broadcast_address))
            for net in self._networks
            if net.version == 4
        )

    @cached_property
    def _dga_ignored(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(c, strict=False) for c in self.dga_ignored_sources)

    def dga_ignores(self, address: str) -> bool:
        """True when ``address`` lies in :attr:`dga_ignored_sources`."""
        if not self.dga_ignored_sources:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip.version == net.version and ip in net for net in self._dga_ignored)

    def is_internal(self, address: str | None) -> bool:
        """True when ``address`` lies in :attr:`internal_networks` (False if not an IP)."""
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip.version == net.version and ip in net for net in self._networks)
