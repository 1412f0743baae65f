"""Cisco ASA / FTD message families as data: which ids, how the body reads, what it means.

A family's body is a sequence of named *stages* (regex fragments). Joined, they are the
pattern both the vectorised polars path and the per-line Python path match; when a line fails,
the first stage that does not match names what is missing (``ASA 106023 line truncated: no
destination``). Patterns stay in the common subset of Python ``re`` and Rust ``regex``.

Named groups, shared by all families: ``transport`` (``pnum`` for ``Deny protocol 47``),
``sip``/``sport`` and ``dip``/``dport`` (the first and second address of the message), ``user``,
``rule``, ``bytes``, ``dir`` (``inbound``/``outbound`` of Built messages), ``verb`` (the 106100
action word); every pattern also captures the syslog header before the tag (``pre``), the tag
(``code``, e.g. ``ASA-4-106023``) and the ``message`` after it.

Speed: the patterns are written to be *one-pass* (at every character at most one way to go on),
which lets the Rust engine extract groups with its one-pass DFA, 2-4 times faster than the
fallback. Ambiguities such as ``[^/]*? on`` or two optional parts that start with the same
character cost that factor. ``tests/test_parsers_asa.py`` checks that common lines never fall
back to the per-line path and that both paths agree.

Direction: ASA always prints the lower-security (outside) side first in 302013/302015, so an
``outbound`` Built message names the responder first; its addresses are swapped so that
``source`` is the initiator. Teardown messages carry no direction and are kept as printed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Final

from .._syslog import BSD_TS, ISO_TS

__all__ = ["FAMILIES", "GROUPS", "HEAD", "PRE", "VERBS", "Family", "family_for"]

_IP: Final = r"[0-9A-Fa-f.:]+"
_PORT: Final = r"[0-9]+"
_IFACE: Final = r"[^: ]+"
_PAREN: Final = r"(?:\([^)]*\))?"

HEAD: Final = r"^(?P<pre>[^%]*)%(?P<vendor>ASA|FTD)-(?P<sev>[0-7])-(?P<mid>[0-9]{6}):"
"""The tag: everything before it is the syslog header (``pre``)."""

PRE: Final = (
    r"(?P<all>(?:<[0-9]{1,3}>(?:1 )?)?"
    rf"(?:(?:(?P<bsd>{BSD_TS})|(?P<iso>{ISO_TS})) *:? *)?"
    r"(?:(?P<host>[^ :]+)(?: +[^ :]+)*)? *:? *)"
)
"""Syslog header before the tag, matched whole: optional ``<PRI>``, timestamp and hostname
(extra tokens such as RFC 5424 ``- - -`` are ignored). ``all`` tells a match from no match."""

GROUPS: Final = (
    "transport",
    "pnum",
    "sip",
    "sport",
    "user",
    "dip",
    "dport",
    "rule",
    "bytes",
    "dir",
    "verb",
)
"""Every named group a family body may define."""

VERBS: Final[Mapping[str, str]] = {"permitted": "allow", "denied": "deny", "est-allowed": "allow"}
"""event_action for the 106100 ``verb`` group."""


@dataclass(frozen=True)
class Family:
    """One family of ASA messages.

    Attributes:
        ids: Message ids (six digits) sharing the layout.
        stages: ``(label, regex)`` pieces of the body, concatenated in order (the leading
            space of the first belongs to the tag); labels name what is missing in reasons.
        action: Fixed event_action, or None when it comes from the ``verb`` group.
    """

    ids: tuple[str, ...]
    stages: tuple[tuple[str, str], ...]
    action: str | None = None

    @cached_property
    def pattern(self) -> str:
        """Full-line pattern: the tag with one of :attr:`ids`, then every stage as ``message``."""
        body = "".join(rx for _, rx in self.stages).removeprefix(" ")
        tag = rf"^(?P<pre>[^%]*)%(?P<code>(?:ASA|FTD)-[0-7]-{_ids(self.ids)}):"
        return rf"{tag} (?P<message>{body}(?: .*)?)"

    @cached_property
    def regex(self) -> re.Pattern[str]:
        """:attr:`pattern` compiled for the per-line path."""
        return re.compile(self.pattern)

    @cached_property
    def groups(self) -> frozenset[str]:
        """Named groups this family's pattern defines."""
        return frozenset(self.regex.groupindex)

    @cached_property
    def _stage_regexes(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(rx) for _, rx in self.stages)

    def explain(self, mid: str, vendor: str, body: str) -> str:
        """Why ``body`` (the text after the tag's colon) does not match: the first failing stage."""
        pos = 0
        for (label, _), regex in zip(self.stages, self._stage_regexes, strict=True):
            match = regex.match(body, pos)
            if match is None:
                rest = body[pos:]
                if len(rest.strip(" ")) <= 24:
                    return f"{vendor} {mid} line truncated: no {label}"
                return f"{vendor} {mid} message has an unexpected {label} near {rest[:40]!r}"
            pos = match.end()
        return f"{vendor} {mid} message does not match the expected layout"


def _ids(ids: tuple[str, ...]) -> str:
    """Regex for the ids; one character class where only the last digit differs (fast path:
    an alternation with a common prefix makes the pattern ambiguous and several times slower)."""
    if len(ids) > 1 and len({mid[:-1] for mid in ids}) == 1:
        return f"{ids[0][:-1]}[{''.join(mid[-1] for mid in ids)}]"
    return "(?:" + "|".join(ids) + ")"


def _from_to(*tail: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    """``from IP/port to IP/port`` stages (106001, 106006, 106007, 106015), then ``tail``."""
    return (
        ("source", rf" from (?P<sip>{_IP})/(?P<sport>{_PORT})"),
        ("destination", rf" to (?P<dip>{_IP})/(?P<dport>{_PORT})"),
        *tail,
    )


_FLAGS: Final = ("flags", r" flags [A-Z ]*on interface [^ ]+")
_SRC_106023: Final = rf"src {_IFACE}:(?P<sip>{_IP})(?:/(?P<sport>{_PORT}))?(?:\((?P<user>[^)]*)\))?"
_ACL_106023: Final = r' (?:\(type [0-9]+, code [0-9]+\) )?by access-group "(?P<rule>[^"]*)"'
_VERB_106100: Final = (
    r" access-list (?P<rule>[^ ]+) (?P<verb>permitted|denied|est-allowed)"
    r" (?P<transport>[A-Za-z0-9-]+)"
)

FAMILIES: Final[tuple[Family, ...]] = (
    Family(
        ("106001",),
        (("action", r" Inbound (?P<transport>TCP) connection denied"), *_from_to(_FLAGS)),
        "deny",
    ),
    Family(
        ("106006",),
        (
            ("action", r" Deny inbound (?P<transport>UDP)"),
            *_from_to(("interface", r" on interface [^ ]+")),
        ),
        "deny",
    ),
    Family(
        ("106007",),
        (
            ("action", r" Deny inbound (?P<transport>UDP)"),
            *_from_to(("DNS reason", r" due to DNS (?:Query|Response)")),
        ),
        "deny",
    ),
    Family(
        ("106014",),
        (
            ("action", r" Deny (?:inbound|outbound) (?P<transport>icmp)"),
            ("source", rf" src {_IFACE} ?: ?(?P<sip>{_IP})"),
            ("destination", rf" dst {_IFACE} ?: ?(?P<dip>{_IP})"),
            ("icmp type", r" \(type [0-9]+, code [0-9]+\)"),
        ),
        "deny",
    ),
    Family(
        ("106015",),
        (("action", r" Deny (?P<transport>TCP) \(no connection\)"), *_from_to(_FLAGS)),
        "deny",
    ),
    Family(
        ("106023",),
        (
            ("action", r" Deny (?P<transport>[A-Za-z0-9-]+) (?:(?P<pnum>[0-9]+) )?"),
            ("source", _SRC_106023),
            ("destination", rf" dst {_IFACE}:(?P<dip>{_IP})(?:/(?P<dport>{_PORT}))?{_PAREN}"),
            ("access-group", _ACL_106023),
        ),
        "deny",
    ),
    Family(
        ("106100",),
        (
            ("access-list", _VERB_106100),
            ("source", rf" [^/ ]+/(?P<sip>{_IP})\((?P<sport>{_PORT})\){_PAREN}"),
            ("destination", rf" -> [^/ ]+/(?P<dip>{_IP})\((?P<dport>{_PORT})\){_PAREN}"),
            ("hit count", r" hit-cnt [0-9]+"),
        ),
    ),
    Family(
        ("302013", "302015"),
        (
            (
                "action",
                r" Built (?P<dir>inbound|outbound) (?P<transport>TCP|UDP) connection [0-9]+",
            ),
            ("source", rf" for {_IFACE}:(?P<sip>{_IP})/(?P<sport>{_PORT}) \([^)]*\){_PAREN}"),
            ("destination", rf" to {_IFACE}:(?P<dip>{_IP})/(?P<dport>{_PORT}) \([^)]*\)"),
        ),
        "allow",
    ),
    Family(
        ("302014", "302016"),
        (
            ("action", r" Teardown (?P<transport>TCP|UDP) connection [0-9]+"),
            ("source", rf" for {_IFACE}:(?P<sip>{_IP})/(?P<sport>{_PORT}){_PAREN}"),
            ("destination", rf" to {_IFACE}:(?P<dip>{_IP})/(?P<dport>{_PORT}){_PAREN}"),
            ("duration", r" duration [0-9]+:[0-9]{2}:[0-9]{2}"),
            ("bytes", r" bytes (?P<bytes>[0-9]+)"),
        ),
        "teardown",
    ),
    Family(
        ("710003",),
        (
            ("action", r" (?P<transport>TCP|UDP) access denied by ACL"),
            ("source", rf" from (?P<sip>{_IP})/(?P<sport>{_PORT})"),
            ("destination", rf" to {_IFACE}:(?P<dip>{_IP})/(?P<dport>{_PORT})"),
        ),
        "deny",
    ),
)
"""Supported families; any other message id becomes a dead letter naming the id."""

_BY_ID: Final = {mid: family for family in FAMILIES for mid in family.ids}


def family_for(mid: str) -> Family | None:
    """The family handling message id ``mid``, if supported."""
    return _BY_ID.get(mid)
