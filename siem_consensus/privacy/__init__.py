"""Reversible, consistent pseudonymization of identities before text leaves the machine.

Threat model
============

An external LLM provider (and anyone who can read its logs) sees the prompts we send. Before
any incident or text is sent, :class:`Pseudonymizer` replaces identities with opaque tokens and
ids with opaque aliases, and keeps the mapping in process memory; verdicts and reports coming
back are restored locally.

* **Classified field by field.** :data:`EVENT_FIELDS` gives every ``Event`` field a class:
  ``pseudonymize`` (and how it is read: an address, a user, a host, a DNS name, a mailbox or a
  list of them, a URL, a file path, free text, an id), ``keep`` or ``drop``. A test fails when
  a field is added to ``Event`` without a class.
* **Hidden:** user names, host and sensor names (``observer.name``), DNS names
  (``dns.question.name``, ``tls.client.server_name``, URL hosts), IP addresses (IPv4 and
  IPv6), email addresses, the user info of URLs and the user segment of profile paths
  (``C:\\Users\\<name>``, ``/home/<name>``, ``/Users/<name>``), whether they come from
  structured fields or appear in free text (messages, user agents, titles, reasons, stats,
  enrichment). Addresses, emails, ``scheme://user@host`` and profile paths are *discovered* in
  free text by their shape; other names are replaced in free text only when they are known
  from a structured field (a name cannot be recognised by its shape).
* **Credentials never leave:** ``user:password@`` in any URL becomes ``***@`` (see
  :func:`redact_credentials`, also used for logs, errors and circuit-breaker keys). It is not
  a token: nothing restores it.
* **Ids are aliases.** The incident id (derived from identities by the detectors) and the
  evidence event ids (``{file}:{n}``) become ``CASE-<prefix>-0001`` and
  ``EVENT-<prefix>-0001``: a counter under a random prefix, so they carry nothing a provider
  could hash or guess. :meth:`Pseudonymizer.restore_verdict` maps event ids back.
* **Kept:** ports, counts, byte totals, timestamps, actions, outcomes, HTTP methods and
  statuses, rule ids and categories, ATT&CK ids - the facts an analyst reasons with.
* **The mapping never leaves the process.** It is not serialised, logged or included in
  ``repr``; :attr:`Pseudonymizer.mapping` is a read-only view for local audit.
* **Not cryptographic anonymisation.** Tokens are consistent within one instance, so a
  provider can still see that the same (unknown) user touched five hosts, and the surrounding
  facts (counts, times, a rare port) may identify someone to an insider. The goal is to keep
  raw identities out of third party systems, not to defeat re-identification.

Token scheme
============

``[INT-|EXT-]KIND-<prefix>-NNNN``, for example ``EXT-IP-k3f9-0007``, ``USER-k3f9-0001``,
``HOST-k3f9-0002``, ``DOMAIN-k3f9-0004``, ``INT-EMAIL-k3f9-0003``, ``CASE-k3f9-0001``.

* ``KIND`` is ``IP``, ``USER``, ``HOST``, ``DOMAIN`` or ``EMAIL`` for identities, ``CASE`` or
  ``EVENT`` for id aliases (``LIT`` is explained below). Numbers count per kind. One value gets
  one token, whatever field it appears in: a value seen first as a host and later as a user
  keeps its first token (IP and email shapes always win, so ``host.name = "10.0.0.5"`` is
  tokenised as an IP).
* ``<prefix>`` is random per instance (4 characters of ``[a-z0-9]``, from :mod:`secrets`).
  Text an attacker writes into a log line cannot predict it, and even a lucky guess is
  escaped (``LIT`` below), so no raw text can be restored into a real identity.
* ``INT-``/``EXT-`` hints: IP tokens say whether the address is internal (RFC 1918, loopback,
  link-local, ULA - or the configured ``internal_networks``) because "internal host talks to
  external host" is what an analyst reasons about, and one bit reveals no identity. Email and
  DNS-name tokens carry the hint only when ``internal_domains`` is configured (company vs
  external); the domain itself is hidden. ``hints=False`` drops all hints.
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
  field (or a URL's user or host) equals them, never inside free text: a user named ``a`` must
  not turn every ``a`` into a token. Such a value can therefore remain visible inside a
  free-text message.
* Free-text matching is case-insensitive (``WS-01`` in a message still hides host ``ws-01``);
  a spelling that differs from the known one gets its own token so restoration stays exact.
  Likewise two spellings of one IPv6 address are two values with two tokens.
* Restoration replaces only tokens this instance issued; any other token-like text (other
  prefixes, unknown numbers) is left exactly as it is.

Limits: a name that is not known from a structured field (a bare DNS name in a message, say),
a known name shorter than three characters, or a known name glued into a longer word (``bob``
alone known, text says ``bob.engineer``) stays visible in free text. Announce identities
through structured fields (``Entities``, event fields) before pseudonymizing the text that uses
them; :meth:`Pseudonymizer.pseudonymize_incident` does this for an incident's own fields.

Example::

    pseudo = Pseudonymizer(internal_domains=["corp.example"])
    safe = pseudo.pseudonymize_incident(incident)   # send ``safe`` to the LLM
    verdict = pseudo.restore_verdict(llm_verdict)   # real names back, locally
"""

from __future__ import annotations

from ._fields import EVENT_FIELDS, FieldClass, FieldRule, Handling
from ._patterns import MIN_TEXT_LENGTH
from ._pseudonymizer import Pseudonymizer
from ._redact import redact_credentials

__all__ = [
    "EVENT_FIELDS",
    "MIN_TEXT_LENGTH",
    "FieldClass",
    "FieldRule",
    "Handling",
    "Pseudonymizer",
    "redact_credentials",
]
