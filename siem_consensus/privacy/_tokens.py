"""The token store behind :class:`~siem_consensus.privacy.Pseudonymizer`: issue, find, restore."""

from __future__ import annotations

import ipaddress
import re
import threading
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from . import _patterns as p
from ._redact import REDACTED, redact_credentials


class TokenStore:
    """Consistent, reversible tokens for values, and their replacement inside free text.

    Args:
        prefix: Token prefix, 4-12 characters of ``[a-z0-9]``; random when omitted.
        internal_domains: Company domains (subdomains included) for ``INT-``/``EXT-`` hints
            on email and DNS-name tokens.
        internal_networks: CIDRs that count as internal for the IP hint.
        hints: Set False to issue tokens without ``INT-``/``EXT-`` hints.
    """

    def __init__(
        self,
        *,
        prefix: str | None = None,
        internal_domains: Iterable[str] = (),
        internal_networks: Iterable[str] | None = None,
        hints: bool = True,
    ) -> None:
        self._prefix = p.new_prefix() if prefix is None else p.check_prefix(prefix)
        self._domains = tuple(d.lower().strip(".") for d in internal_domains)
        self._networks = None if internal_networks is None else p.networks(internal_networks)
        self._hints = hints
        self._token_of: dict[str, str] = {}
        self._value_of: dict[str, str] = {}
        self._alias_of: dict[tuple[str, str], str] = {}  # (kind, id) -> alias token
        self._kind_of_fold: dict[str, str] = {}
        self._text_values: dict[str, tuple[str, str]] = {}  # value -> its shape
        self._counters = dict.fromkeys(p.KINDS, 0)
        self._own = p.token_pattern(self._prefix)
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

    def alias(self, value: str, kind: str = "CASE") -> str:
        """An opaque alias (``CASE-<prefix>-0001``) for an id; the same id keeps its alias.

        Aliases carry nothing of the id (a counter under the random prefix), so a provider
        cannot recover the identities an id was derived from; :meth:`restore_text` maps them
        back.
        """
        with self._lock:
            found = self._alias_of.get((kind, value))
            if found is None:
                found = self._issue(value, kind)
                self._alias_of[(kind, value)] = found
            return found

    # ----------------------------------------------------------------- free text

    def pseudonymize_text(self, text: str) -> str:
        """Replace identities in ``text`` by tokens.

        Credentials in URLs become ``***``; the user and host of every ``scheme://`` URL, the
        user of every profile path (``C:\\Users\\x``, ``/home/x``), every IP address and email
        address, every value known from a structured field and every look-alike of this
        instance's tokens are replaced.

        Args:
            text: Raw text (a log message, a prompt, a title).

        Returns:
            The text with identities replaced by tokens; everything else unchanged.
        """
        with self._lock:
            text = redact_credentials(text)
            self.discover(text)
            regex = self._value_regex()
            out, pos = [], 0
            for match in p.URL_AUTHORITY.finditer(text):
                out.append(regex.sub(self._substitute, text[pos : match.start()]))
                out.append(self._authority(match))
                pos = match.end()
            out.append(regex.sub(self._substitute, text[pos:]))
            return "".join(out)

    def discover(self, text: str) -> None:
        """Register the identities that ``text`` shows by their shape (see
        :meth:`pseudonymize_text`), so other text is scrubbed knowing them."""
        text = redact_credentials(text)
        with self._lock:
            for match in p.DISCOVER.finditer(text):
                email, address = match.group("email"), match.group("ip")
                if email:
                    self.register(email, "EMAIL")
                elif address and (found := p.address_in(address)) is not None:
                    self.register(found, "IP")
            for match in p.URL_AUTHORITY.finditer(text):
                if match.group("user") not in (None, REDACTED):
                    self.register(match.group("user"), "USER")
                if match.group("host"):
                    self.register(match.group("host"), "DOMAIN")
            for match in p.PROFILE.finditer(text):
                user = match.group("user")
                if user.casefold() not in p.SHARED_PROFILES:
                    self.register(user, "USER")

    def _authority(self, match: re.Match[str]) -> str:
        user, host = match.group("user"), match.group("host")
        parts = [match.group("scheme")]
        if user:
            parts.append((user if user == REDACTED else self.register(user, "USER")) + "@")
        if host:
            parts.append(self.register(host, "DOMAIN"))
        return "".join(parts)

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

    # ----------------------------------------------------------------- registration

    def register(self, value: str, kind: str) -> str:
        """The token of ``value``, issuing one (of ``kind`` unless its shape says IP/email)."""
        with self._lock:
            token = self._token_of.get(value)
            if token is not None:
                return token
            kind = self._classify(value, kind)
            token = self._issue(value, kind)
            self._token_of[value] = token
            self._kind_of_fold.setdefault(value.casefold(), kind)
            if kind != "LIT" and len(value) >= p.MIN_TEXT_LENGTH:
                self._text_values[value] = p.shape(value, kind)
            return token

    def field(self, value: str | None, kind: str) -> str | None:
        """Pseudonymize a whole structured field: any length, blank values kept."""
        if value is None or not value.strip():
            return value
        return self.register(value, kind)

    def _issue(self, value: str, kind: str) -> str:
        self._counters[kind] += 1
        token = f"{self._hint(value, kind)}{kind}-{self._prefix}-{self._counters[kind]:04d}"
        self._value_of[token] = value
        return token

    @staticmethod
    def _classify(value: str, kind: str) -> str:
        if kind == "LIT":
            return kind
        if p.parse_ip(value) is not None:
            return "IP"
        if p.EMAIL_SHAPE.fullmatch(value):
            return "EMAIL"
        return kind

    def _hint(self, value: str, kind: str) -> str:
        if not self._hints:
            return ""
        if kind == "IP":
            return "INT-" if self._is_internal_ip(value) else "EXT-"
        if kind in ("EMAIL", "DOMAIN") and self._domains:
            domain = value.rsplit("@", 1)[-1].lower().rstrip(".")
            internal = any(domain == d or domain.endswith("." + d) for d in self._domains)
            return "INT-" if internal else "EXT-"
        return ""

    def _is_internal_ip(self, value: str) -> bool:
        address = p.parse_ip(value)
        if address is None:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        networks = p.DEFAULT_INTERNAL if self._networks is None else self._networks
        return any(address.version == net.version and address in net for net in networks)

    # ------------------------------------------------------------------- matching

    def _value_regex(self) -> re.Pattern[str]:
        """Known values, longest first within each shape, then own-token look-alikes.

        Shapes are tried emails, IPv6, DNS names, names, IPv4: where two values start at the
        same place the longer one is then always tried first (a name cannot match where an
        IPv4 address continues with ``.1``, and ``bob`` cannot match where ``bob@...``
        continues). Values come before look-alikes so an email that starts like a token stays
        one email. A value never ends inside a look-alike, so every look-alike restoration
        would match is either inside a replaced value or escaped.
        """
        if self._text_re is not None and self._text_re_size == len(self._text_values):
            return self._text_re
        groups = []
        for shape in p.SHAPES:
            values = sorted((v for v, s in self._text_values.items() if s is shape), key=p.longest)
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
            return self.register(text, "LIT")
        token = self._token_of.get(text)
        if token is not None:
            return token
        # A differently-cased spelling of a known value: its own token keeps restore exact.
        return self.register(text, self._kind_of_fold.get(text.casefold(), "USER"))
