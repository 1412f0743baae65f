"""Reversible, consistent pseudonymization of identities before text leaves the machine.

Threat model
============

An external LLM provider (and anyone who can read its logs) sees the prompts we send. Before
any incident or text is sent, :class:`Pseudonymizer` replaces identities with opaque tokens and
keeps the mapping in process memory; verdicts and reports coming back are restored locally.

* **Hidden:** user names, host names, IP addresses (IPv4 and IPv6) and email addresses, whether
  they come from structured fields (entities, ``source.ip``, ``user.name``, ...) or appear in
  free text (messages, titles, reasons, stats, enrichment). IPs and emails are also *discovered*
  in free text by pattern; users and hosts are replaced in free text only when they are known
  from a structured field (a name cannot be recognised by its shape).
* **Kept:** ports, counts, byte totals, timestamps, rule names (an identity inside one is
  still replaced), actions, ATT&CK ids, event ids, the incident id (a hash) - the facts an
  analyst reasons with.
* **The mapping never leaves the process.** It is not serialised, logged or included in
  ``repr``; :attr:`Pseudonymizer.mapping` is a read-only view for local audit.
* **Not cryptographic anonymisation.** Tokens are consistent, so a provider can still see that
  the same (unknown) user touched five hosts, and the surrounding facts (counts, times, a rare
  port) may identify someone to an insider. The goal is to keep raw identities out of third
  party systems, not to defeat re-identification.

Token scheme
============

``[INT-|EXT-]KIND-<prefix>-NNNN``, for example ``EXT-IP-k3f9-0007``, ``USER-k3f9-0001``,
``HOST-k3f9-0002``, ``INT-EMAIL-k3f9-0003``.

* ``KIND`` is ``IP``, ``USER``, ``HOST`` or ``EMAIL`` (``LIT`` is explained below). Numbers
  count per kind. One value gets one token, whatever field it appears in: a value seen first as
  a host and later as a user keeps its first token (IP and email shapes always win, so
  ``host.name = "10.0.0.5"`` is tokenised as an IP).
* ``<prefix>`` is random per instance (4 characters of ``[a-z0-9]``, from :mod:`secrets`).
  Text an attacker writes into a log line cannot predict it, and even a lucky guess is
  escaped (``LIT`` below), so no raw text can be restored into a real identity.
* ``INT-``/``EXT-`` hints: IP tokens say whether the address is internal (RFC 1918, loopback,
  link-local, ULA - or the configured ``internal_networks``) because "internal host talks to
  external host" is what an analyst reasons about, and one bit reveals no identity. Email tokens
  carry the hint only when ``internal_domains`` is configured (company vs external/personal
  mailbox); the domain itself is hidden. ``hints=False`` drops all hints.
* ``LIT-<prefix>-NNNN``: a raw string that already looks like one of *this* instance's tokens
  is escaped into a ``LIT`` token, so it is never mistaken for an issued token and restores
  to exactly the raw string. Consequently, pseudonymize raw text once: text that was already
  pseudonymized would have its tokens escaped, and one restore would give the tokens back.

Matching rules
==============

* Whole tokens only: a user or host name matches where it is not glued to letters, digits,
  ``_``, ``-``, ``@`` or a dotted continuation, so ``bob`` does not match inside
  ``bob.engineer``, ``bob-laptop`` or ``bobcat``; a trailing sentence dot is fine
  (``... from bob.``). Addresses have a distinctive shape, so only a longer address blocks
  them: ``deny-10.1.1.1`` and ``host:2001:db8::1`` hide the address, while ``10.1.1.1`` never
  matches inside ``10.1.1.10``.
* Longest value first, in one pass: ``10.1.1.10`` never becomes ``<token>0`` and
  ``bob@corp.example`` is one email even when ``bob`` is a known user.
* Values shorter than :data:`MIN_TEXT_LENGTH` (3) characters are replaced only where a whole
  field equals them (structured fields, and stats/enrichment strings or keys equal to the
  value), never inside free text: a user named ``a`` must not turn every ``a`` into a token.
  Such a value can therefore remain visible inside a free-text message.
* Free-text matching is case-insensitive (``WS-01`` in a message still hides host ``ws-01``);
  a spelling that differs from the known one gets its own token so restoration stays exact.
  Likewise two spellings of one IPv6 address are two values with two tokens.
* Restoration replaces only tokens this instance issued; any other token-like text (other
  prefixes, unknown numbers) is left exactly as it is.

Limits: a name that is not known from a structured field, a known name shorter than three
characters, or a known name glued into a longer word (``bob`` alone known, text says
``bob.engineer``) stays visible in free text. Announce identities through structured fields
(``Entities``, event ``user.name``/``host.name``) before pseudonymizing the text that uses them;
:meth:`Pseudonymizer.pseudonymize_incident` does this for an incident's own fields.

Example::

    pseudo = Pseudonymizer(internal_domains=["corp.example"])
    safe = pseudo.pseudonymize_incident(incident)   # send ``safe`` to the LLM
    verdict = pseudo.restore_verdict(llm_verdict)   # real names back, locally
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import string
import threading
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, Final

from .errors import ConfigError
from .models import Decision, Entities, Event, Incident, Verdict

__all__ = ["MIN_TEXT_LENGTH", "Pseudonymizer"]

MIN_TEXT_LENGTH: Final = 3
"""Values shorter than this are replaced only in whole fields, never inside free text."""

_KINDS: Final = ("IP", "USER", "HOST", "EMAIL", "LIT")
_PREFIX_ALPHABET: Final = string.ascii_lowercase + string.digits
_PREFIX_SHAPE: Final = re.compile(r"[a-z0-9]{4,12}")

# Boundaries per shape. A name is a whole token when it is not glued to a "joining" character;
# a dot joins only when it continues a dotted name (``bob.engineer``), not when it ends a
# sentence. Addresses are distinctive, so mostly a longer address blocks them: ``deny-10.1.1.1``
# still hides the IP, while ``10.1.1.1`` never matches inside ``10.1.1.10`` or ``1.10.1.1.1``.
# IPv6 also needs letters around it to be blocked, or ``std::vector`` would hold ``d::``.
_WORD: Final = (
    r"(?<![A-Za-z0-9_@\-])(?<![A-Za-z0-9_]\.)",
    r"(?![A-Za-z0-9_@\-])(?!\.[A-Za-z0-9_])",
)
_MAIL: Final = (r"(?<![A-Za-z0-9._%+\-])", r"(?![A-Za-z0-9_@\-])(?!\.[A-Za-z0-9])")
_V4: Final = (r"(?<![0-9])(?<![0-9]\.)", r"(?![0-9])(?!\.[0-9])")
_V6: Final = (r"(?<![0-9A-Za-z_])(?<!::)", r"(?![0-9A-Za-z_])(?!:[0-9A-Fa-f])(?!\.[0-9])")
_SHAPES: Final = (_MAIL, _V6, _WORD, _V4)  # the order values are tried in; see _value_regex
_EMAIL: Final = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
_IPV4: Final = r"(?:\d{1,3}\.){3}\d{1,3}"
# Ends in a group or ``::``, never a lone colon: ``::1: denied`` holds ``::1``.
_IPV6: Final = r"(?:[0-9A-Fa-f]{0,4}:){1,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4}|:)"
_DISCOVER: Final = re.compile(
    f"(?P<email>{_MAIL[0]}{_EMAIL}{_MAIL[1]})"
    f"|(?P<ip>{_V6[0]}{_IPV6}{_V6[1]}|{_V4[0]}{_IPV4}{_V4[1]})"
)
_EMAIL_SHAPE: Final = re.compile(_EMAIL)


def _networks(
    cidrs: Iterable[str],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    try:
        return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)
    except ValueError as exc:
        raise ConfigError(f"invalid internal network: {exc}; give CIDRs like '10.0.0.0/8'") from exc


# Not ``ipaddress.is_private``: that also calls documentation ranges (TEST-NET, 2001:db8::/32)
# private, and those are the classic "external attacker" addresses in examples and tests.
_DEFAULT_INTERNAL: Final = _networks(
    ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16")
    + ("::1/128", "fc00::/7", "fe80::/10")
)


def _shape(value: str, kind: str) -> tuple[str, str]:
    """Whole-token lookarounds (one of :data:`_SHAPES`) for a value."""
    if kind == "IP":
        return _V6 if ":" in value else _V4
    return _MAIL if kind == "EMAIL" else _WORD


def _longest(value: str) -> tuple[int, str]:
    return -len(value), value


def _address_in(candidate: str) -> str | None:
    """The IP address a discovery candidate holds, if any.

    An IPv6 candidate may carry one colon too many from its surroundings: ``host:2001:db8::1``
    and ``fe80::: denied`` read as invalid candidates that hold an address.
    """
    head = candidate[1:] if candidate.startswith(":") else candidate
    tail = candidate[:-1] if candidate.endswith(":") else candidate
    for text in (candidate, head, tail, head[:-1] if head.endswith(":") else head):
        if text.strip(":") and _parse_ip(text) is not None:
            return text
    return None


def _new_prefix() -> str:
    return "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(4))


def _parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _token_pattern(prefix: str) -> re.Pattern[str]:
    """Shape of this instance's tokens, used both to escape raw look-alikes and to restore.

    Pseudonymization escapes exactly what restoration would match, so raw text can never be
    restored into something it was not. No left boundary: scanning is leftmost, so a hint
    (``EXT-IP-...``) is always read with its token.
    """
    kinds = "|".join(_KINDS)
    return re.compile(rf"(?:(?:INT|EXT)-)?(?:{kinds})-{prefix}-\d+(?!\d)")


class Pseudonymizer:
    """Consistent, reversible replacement of users, hosts, IPs and emails by tokens.

    Use one instance per run: the same value gets the same token across fields and incidents,
    and only this instance can restore its tokens. Thread-safe.

    Args:
        prefix: Token prefix, 4-12 characters of ``[a-z0-9]``; random when omitted (tests pass
            a fixed one for stable output).
        internal_domains: Company email domains (subdomains included). When given, email tokens
            carry an ``INT-``/``EXT-`` hint.
        internal_networks: CIDRs that count as internal for the IP hint. Default: RFC 1918,
            loopback and link-local IPv4; IPv6 loopback, ULA and link-local.
        hints: Set False to issue tokens without ``INT-``/``EXT-`` hints.

    Raises:
        ConfigError: The prefix or a network is malformed.
    """

    def __init__(
        self,
        *,
        prefix: str | None = None,
        internal_domains: Iterable[str] = (),
        internal_networks: Iterable[str] | None = None,
        hints: bool = True,
    ) -> None:
        self._prefix = _new_prefix() if prefix is None else _check_prefix(prefix)
        self._domains = tuple(d.lower().strip(".") for d in internal_domains)
        self._networks = None if internal_networks is None else _networks(internal_networks)
        self._hints = hints
        self._token_of: dict[str, str] = {}
        self._value_of: dict[str, str] = {}
        self._kind_of_fold: dict[str, str] = {}
        self._text_values: dict[str, tuple[str, str]] = {}  # value -> its shape
        self._counters = dict.fromkeys(_KINDS, 0)
        self._own = _token_pattern(self._prefix)
        self._text_re: re.Pattern[str] | None = None
        self._text_re_size = -1
        self._lock = threading.RLock()

    @property
    def prefix(self) -> str:
        """The random part shared by every token of this instance."""
        return self._prefix

    @property
    def mapping(self) -> Mapping[str, str]:
        """Read-only view token -> real value, for local audit. Never send it anywhere."""
        return MappingProxyType(self._value_of)

    def token_for(self, value: str) -> str | None:
        """The token issued for ``value``, or None if it was never seen."""
        return self._token_of.get(value)

    # ----------------------------------------------------------------- pseudonymize

    def pseudonymize_text(self, text: str) -> str:
        """Replace every known value, discovered IP/email and own-token look-alike in ``text``.

        Args:
            text: Raw text (a log message, a prompt, a title).

        Returns:
            The text with identities replaced by tokens; everything else unchanged.
        """
        with self._lock:
            self._discover(text)
            return self._value_regex().sub(self._substitute, text)

    def pseudonymize_incident(self, incident: Incident) -> Incident:
        """A copy of ``incident`` safe to send to an external provider.

        Structured identities (entities, evidence ``source.ip``/``destination.ip``/
        ``user.name``/``host.name``) are registered first, so free text (title, reasons,
        messages, rule names, stats, enrichment) is scrubbed knowing all of them. Ids, counts,
        ports, timestamps, severity and ATT&CK references are kept.

        Args:
            incident: The raw incident.

        Returns:
            The pseudonymized incident (same id and evidence event ids).
        """
        with self._lock:
            self._register_structured(incident)
            update: dict[str, Any] = {
                "entities": self._entities(incident.entities),
                "evidence": tuple(self._event(event) for event in incident.evidence),
                "title": self.pseudonymize_text(incident.title),
                "reasons": tuple(self.pseudonymize_text(r) for r in incident.reasons),
                "stats": self._scrub(incident.stats),
                "enrichment": self._scrub(incident.enrichment),
            }
            return incident.model_copy(update=update)

    # ---------------------------------------------------------------------- restore

    def restore_text(self, text: str) -> str:
        """Replace the tokens this instance issued by their real values.

        Args:
            text: Text that came back from a provider (or a report built from it).

        Returns:
            The text with real values; token-like text this instance did not issue (another
            prefix, an unknown number, a different case) is left exactly as it is.
        """
        with self._lock:
            return self._own.sub(self._restore_token, text)

    def restore_verdict(self, verdict: Verdict) -> Verdict:
        """A copy of ``verdict`` with real values in its free-text claims.

        Restores ``rationale``, ``attacker_goal``, ``business_impact``,
        ``recommended_actions``, ``category``, ``problems`` and ``error``; ids (incident,
        evidence events, techniques) are left untouched.
        """
        restore = self.restore_text
        update: dict[str, Any] = {
            "rationale": restore(verdict.rationale),
            "attacker_goal": self._restore_optional(verdict.attacker_goal),
            "business_impact": self._restore_optional(verdict.business_impact),
            "recommended_actions": tuple(restore(a) for a in verdict.recommended_actions),
            "category": self._restore_optional(verdict.category),
            "problems": tuple(restore(p) for p in verdict.problems),
            "error": self._restore_optional(verdict.error),
        }
        return verdict.model_copy(update=update)

    def restore_decision(self, decision: Decision) -> Decision:
        """A copy of ``decision`` with its reasons, actions and verdicts restored."""
        update: dict[str, Any] = {
            "reasons": tuple(self.restore_text(r) for r in decision.reasons),
            "recommended_actions": tuple(
                self.restore_text(a) for a in decision.recommended_actions
            ),
            "verdicts": tuple(self.restore_verdict(v) for v in decision.verdicts),
        }
        return decision.model_copy(update=update)

    def _restore_token(self, match: re.Match[str]) -> str:
        token = match.group(0)
        value = self._value_of.get(token)
        if value is not None:
            return value
        # Raw text ``EXT-`` right before a hint-less token (``hints=False``) reads as one
        # token-like string; the issued token is the part after the hint.
        head, tail = token[:4], token[4:]
        if head in ("INT-", "EXT-") and tail in self._value_of:
            return head + self._value_of[tail]
        return token

    def _restore_optional(self, text: str | None) -> str | None:
        return None if text is None else self.restore_text(text)

    # ----------------------------------------------------------------- registration

    def _register(self, value: str, kind: str) -> str:
        """The token of ``value``, issuing one (of ``kind`` unless its shape says IP/email)."""
        token = self._token_of.get(value)
        if token is not None:
            return token
        kind = self._classify(value, kind)
        self._counters[kind] += 1
        token = f"{self._hint(value, kind)}{kind}-{self._prefix}-{self._counters[kind]:04d}"
        self._token_of[value] = token
        self._value_of[token] = value
        self._kind_of_fold.setdefault(value.casefold(), kind)
        if kind != "LIT" and len(value) >= MIN_TEXT_LENGTH:
            self._text_values[value] = _shape(value, kind)
        return token

    @staticmethod
    def _classify(value: str, kind: str) -> str:
        if kind == "LIT":
            return kind
        if _parse_ip(value) is not None:
            return "IP"
        if _EMAIL_SHAPE.fullmatch(value):
            return "EMAIL"
        return kind

    def _hint(self, value: str, kind: str) -> str:
        if not self._hints:
            return ""
        if kind == "IP":
            return "INT-" if self._is_internal_ip(value) else "EXT-"
        if kind == "EMAIL" and self._domains:
            domain = value.rsplit("@", 1)[1].lower()
            internal = any(domain == d or domain.endswith("." + d) for d in self._domains)
            return "INT-" if internal else "EXT-"
        return ""

    def _is_internal_ip(self, value: str) -> bool:
        address = _parse_ip(value)
        if address is None:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        networks = _DEFAULT_INTERNAL if self._networks is None else self._networks
        return any(address.version == net.version and address in net for net in networks)

    def _register_structured(self, incident: Incident) -> None:
        entities = incident.entities
        for kind, values in (
            ("IP", entities.source_ips + entities.destination_ips),
            ("USER", entities.users),
            ("HOST", entities.hosts),
        ):
            for value in values:
                self._field(value, kind)
        for event in incident.evidence:
            self._field(event.source_ip, "IP")
            self._field(event.destination_ip, "IP")
            self._field(event.user_name, "USER")
            self._field(event.host_name, "HOST")

    def _field(self, value: str | None, kind: str) -> str | None:
        """Pseudonymize a whole structured field: any length, blank values kept."""
        if value is None or not value.strip():
            return value
        return self._register(value, kind)

    # ------------------------------------------------------------------- free text

    def _discover(self, text: str) -> None:
        """Register IPs and emails found in ``text`` that no structured field announced."""
        for match in _DISCOVER.finditer(text):
            email, address = match.group("email"), match.group("ip")
            if email:
                self._register(email, "EMAIL")
            elif address and (found := _address_in(address)) is not None:
                self._register(found, "IP")

    def _value_regex(self) -> re.Pattern[str]:
        """Known values, longest first within each shape, then own-token look-alikes.

        Shapes are tried emails, IPv6, names, IPv4: where two values start at the same place
        the longer one is then always tried first (a name cannot match where an IPv4 address
        continues with ``.1``, and ``bob`` cannot match where ``bob@...`` continues). Values
        come before look-alikes so an email that starts like a token stays one email. A value
        never ends inside a look-alike, so every look-alike restoration would match is either
        inside a replaced value or escaped.
        """
        if self._text_re is not None and self._text_re_size == len(self._text_values):
            return self._text_re
        groups = []
        for shape in _SHAPES:
            values = sorted((v for v, s in self._text_values.items() if s is shape), key=_longest)
            if values:
                joined = "|".join(re.escape(v) for v in values)
                groups.append(f"{shape[0]}(?:{joined}){shape[1]}")
        own = f"(?P<own>{self._own.pattern})"
        pattern = f"(?i:{'|'.join(groups)})|{own}" if groups else own
        self._text_re = re.compile(pattern)
        self._text_re_size = len(self._text_values)
        return self._text_re

    def _substitute(self, match: re.Match[str]) -> str:
        text = match.group(0)
        if match.group("own") is not None:
            return self._register(text, "LIT")
        token = self._token_of.get(text)
        if token is not None:
            return token
        # A differently-cased spelling of a known value: its own token keeps restore exact.
        return self._register(text, self._kind_of_fold.get(text.casefold(), "USER"))

    def _scrub(self, value: Any) -> Any:
        """Recursively pseudonymize strings (and dict keys) in stats/enrichment values.

        A string equal to a known value becomes its token whatever its length; other strings
        are free text. Numbers, booleans, None and other objects are kept as they are.
        """
        if isinstance(value, str):
            token = self._token_of.get(value)
            return token if token is not None else self.pseudonymize_text(value)
        if isinstance(value, dict):
            return {self._scrub(k): self._scrub(v) for k, v in value.items()}
        if type(value) in (list, tuple, set, frozenset):
            return type(value)(self._scrub(v) for v in value)
        return value

    # ---------------------------------------------------------------- model copies

    def _entities(self, entities: Entities) -> Entities:
        def tokens(values: tuple[str, ...], kind: str) -> tuple[str, ...]:
            return tuple(self._field(v, kind) or v for v in values)

        return entities.model_copy(
            update={
                "source_ips": tokens(entities.source_ips, "IP"),
                "destination_ips": tokens(entities.destination_ips, "IP"),
                "users": tokens(entities.users, "USER"),
                "hosts": tokens(entities.hosts, "HOST"),
            }
        )

    def _event(self, event: Event) -> Event:
        update: dict[str, Any] = {
            "source_ip": self._field(event.source_ip, "IP"),
            "destination_ip": self._field(event.destination_ip, "IP"),
            "user_name": self._field(event.user_name, "USER"),
            "host_name": self._field(event.host_name, "HOST"),
            "message": None if event.message is None else self.pseudonymize_text(event.message),
            "rule_name": None
            if event.rule_name is None
            else self.pseudonymize_text(event.rule_name),
        }
        return event.model_copy(update=update)


def _check_prefix(prefix: str) -> str:
    if not _PREFIX_SHAPE.fullmatch(prefix):
        raise ConfigError(
            f"invalid pseudonym prefix {prefix!r}: use 4-12 characters of a-z and 0-9 "
            "(or omit it for a random one)"
        )
    return prefix
