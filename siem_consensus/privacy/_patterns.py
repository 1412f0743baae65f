"""Shapes the pseudonymizer recognises: boundaries, discovery patterns, token syntax."""

from __future__ import annotations

import ipaddress
import re
import secrets
import string
from collections.abc import Iterable
from typing import Final

from ..errors import ConfigError

MIN_TEXT_LENGTH: Final = 3
"""Values shorter than this are replaced only in whole fields, never inside free text."""

IDENTITY_KINDS: Final = ("IP", "USER", "HOST", "DOMAIN", "EMAIL")
"""Token kinds that stand for an identity (restored in verdict text)."""
ALIAS_KINDS: Final = ("CASE", "EVENT")
"""Token kinds that stand for an id (an incident or an event), issued even without identities."""
KINDS: Final = (*IDENTITY_KINDS, *ALIAS_KINDS, "LIT")

_PREFIX_ALPHABET: Final = string.ascii_lowercase + string.digits
_PREFIX_SHAPE: Final = re.compile(r"[a-z0-9]{4,12}")

# Boundaries per shape. A name is a whole token when it is not glued to a "joining" character;
# a dot joins only when it continues a dotted name (``bob.engineer``), not when it ends a
# sentence. Addresses are distinctive, so mostly a longer address blocks them: ``deny-10.1.1.1``
# still hides the IP, while ``10.1.1.1`` never matches inside ``10.1.1.10`` or ``1.10.1.1.1``.
# IPv6 also needs letters around it to be blocked, or ``std::vector`` would hold ``d::``.
# A DNS name may follow ``@`` (``user:***@shop.example.com``); an email found at the same place
# starts earlier and wins, since scanning is leftmost.
WORD: Final = (
    r"(?<![A-Za-z0-9_@\-])(?<![A-Za-z0-9_]\.)",
    r"(?![A-Za-z0-9_@\-])(?!\.[A-Za-z0-9_])",
)
DOMAIN: Final = (r"(?<![A-Za-z0-9_\-])(?<![A-Za-z0-9_]\.)", WORD[1])
MAIL: Final = (r"(?<![A-Za-z0-9._%+\-])", r"(?![A-Za-z0-9_@\-])(?!\.[A-Za-z0-9])")
V4: Final = (r"(?<![0-9])(?<![0-9]\.)", r"(?![0-9])(?!\.[0-9])")
V6: Final = (r"(?<![0-9A-Za-z_])(?<!::)", r"(?![0-9A-Za-z_])(?!:[0-9A-Fa-f])(?!\.[0-9])")
SHAPES: Final = (MAIL, V6, DOMAIN, WORD, V4)  # the order values are tried in
_EMAIL: Final = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
_IPV4: Final = r"(?:\d{1,3}\.){3}\d{1,3}"
# Ends in a group or ``::``, never a lone colon: ``::1: denied`` holds ``::1``.
_IPV6: Final = r"(?:[0-9A-Fa-f]{0,4}:){1,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4}|:)"
DISCOVER: Final = re.compile(
    f"(?P<email>{MAIL[0]}{_EMAIL}{MAIL[1]})|(?P<ip>{V6[0]}{_IPV6}{V6[1]}|{V4[0]}{_IPV4}{V4[1]})"
)
EMAIL_SHAPE: Final = re.compile(_EMAIL)

URL_AUTHORITY: Final = re.compile(
    r"(?P<scheme>(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://)"
    r"(?:(?P<user>[^@/\\\s?#\[\]'\"<>]+)@)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^\s/\\?#:@\[\]'\"<>,;]+)?"
)
"""``scheme://[user@]host`` of a URL; the host of an absolute URL is an identity."""

# ``C:\Users\<name>``, ``\\server\c$\Users\<name>``, ``/Users/<name>``, ``/home/<name>``.
PROFILE: Final = re.compile(
    r"(?:(?<=[\\/])|(?<![^\s\"'=(:,;\[]))"
    r"(?i:users|home|documents and settings)[\\/](?P<user>[^\\/\s\"'<>|:*?]+)"
)
SHARED_PROFILES: Final = frozenset(
    {"public", "default", "default user", "all users", "shared", "defaultaccount", "guest"}
)
"""Profile folders that belong to no person: kept as they are."""


def networks(
    cidrs: Iterable[str],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Parse CIDRs, or raise a ConfigError that shows the expected form."""
    try:
        return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)
    except ValueError as exc:
        raise ConfigError(f"invalid internal network: {exc}; give CIDRs like '10.0.0.0/8'") from exc


# Not ``ipaddress.is_private``: that also calls documentation ranges (TEST-NET, 2001:db8::/32)
# private, and those are the classic "external attacker" addresses in examples and tests.
DEFAULT_INTERNAL: Final = networks(
    ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16")
    + ("::1/128", "fc00::/7", "fe80::/10")
)


def shape(value: str, kind: str) -> tuple[str, str]:
    """Whole-token lookarounds (one of :data:`SHAPES`) for a value."""
    if kind == "IP":
        return V6 if ":" in value else V4
    if kind == "DOMAIN":
        return DOMAIN
    return MAIL if kind == "EMAIL" else WORD


def longest(value: str) -> tuple[int, str]:
    """Sort key: longest first, then alphabetical."""
    return -len(value), value


def address_in(candidate: str) -> str | None:
    """The IP address a discovery candidate holds, if any.

    An IPv6 candidate may carry one colon too many from its surroundings: ``host:2001:db8::1``
    and ``fe80::: denied`` read as invalid candidates that hold an address.
    """
    head = candidate[1:] if candidate.startswith(":") else candidate
    tail = candidate[:-1] if candidate.endswith(":") else candidate
    for text in (candidate, head, tail, head[:-1] if head.endswith(":") else head):
        if text.strip(":") and parse_ip(text) is not None:
            return text
    return None


def new_prefix() -> str:
    """4 random characters of ``[a-z0-9]`` (from :mod:`secrets`)."""
    return "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(4))


def check_prefix(prefix: str) -> str:
    """The prefix, if well formed."""
    if not _PREFIX_SHAPE.fullmatch(prefix):
        raise ConfigError(
            f"invalid pseudonym prefix {prefix!r}: use 4-12 characters of a-z and 0-9 "
            "(or omit it for a random one)"
        )
    return prefix


def parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address, or None when ``value`` is not one."""
    try:
        return ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return None


def token_pattern(prefix: str) -> re.Pattern[str]:
    """Shape of this instance's tokens, used both to escape raw look-alikes and to restore.

    Pseudonymization escapes exactly what restoration would match, so raw text can never be
    restored into something it was not. No left boundary: scanning is leftmost, so a hint
    (``EXT-IP-...``) is always read with its token.
    """
    kinds = "|".join(KINDS)
    return re.compile(rf"(?:(?:INT|EXT)-)?(?:{kinds})-{prefix}-\d+(?!\d)")
