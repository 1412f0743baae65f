"""Credentials inside URLs, removed from anything that is logged, raised or reported."""

from __future__ import annotations

import re
from typing import Final

__all__ = ["redact_credentials"]

# ``scheme://user:password@`` (or a bare ``scheme://token@`` with a colon-free secret would be
# indistinguishable from a user name, so only userinfo with a colon is a credential).
_USERINFO: Final = re.compile(
    r"(?P<scheme>(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://)[^@/\\\s?#\[\]'\"<>]*:[^@/\s]*@"
)
REDACTED: Final = "***"
"""What a URL's ``user:password`` becomes."""


def redact_credentials(text: str) -> str:
    """``text`` with the ``user:password@`` of every URL in it replaced by ``***@``.

    Use it on anything that may hold a base URL before it is logged, raised, stored or sent:
    ``http://user:secret@host/v1`` becomes ``http://***@host/v1``. Text without such a URL is
    returned unchanged.
    """
    if "@" not in text:
        return text
    return _USERINFO.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)
