"""Where LLM settings come from: arguments, then the environment, then Google Colab secrets."""

from __future__ import annotations

import ipaddress
import os
import sys
from collections.abc import Sequence
from urllib.parse import urlparse

from ...errors import ConfigError

__all__ = [
    "DEFAULT_MODELS",
    "available_llm_analysts",
    "describe_privacy",
    "is_loopback_url",
    "resolve_setting",
]

DEFAULT_MODELS: dict[str, str] = {
    "claude": "claude-sonnet-5",
    "openai": "gpt-5.5",
}
"""Default model per analyst; override with arguments or SIEM_CONSENSUS_CLAUDE_MODEL /
SIEM_CONSENSUS_OPENAI_MODEL."""

_KEY_HINTS = {
    "ANTHROPIC_API_KEY": "export ANTHROPIC_API_KEY=... (or add it to Colab secrets)",
    "OPENAI_API_KEY": "export OPENAI_API_KEY=... (or add it to Colab secrets)",
}


def _colab_secret(name: str) -> str | None:
    if "google.colab" not in sys.modules:
        return None
    try:
        from google.colab import userdata

        value = userdata.get(name)
    except Exception:  # noqa: BLE001  (secret missing or access not granted)
        return None
    return str(value) if value else None


def resolve_setting(name: str, *, required: bool = False) -> str | None:
    """A setting from the environment, else a Colab secret when running in Colab.

    Raises:
        ConfigError: ``required`` and not found; the message says how to set it (never the
            value of anything).
    """
    value = os.environ.get(name) or _colab_secret(name)
    if value:
        return value
    if required:
        hint = _KEY_HINTS.get(name, f"export {name}=...")
        raise ConfigError(f"{name} is not set; {hint}")
    return None


def available_llm_analysts() -> list[str]:
    """Names of the LLM analysts whose API key is present (for defaults and reports)."""
    found = []
    if resolve_setting("ANTHROPIC_API_KEY"):
        found.append("claude")
    if resolve_setting("OPENAI_API_KEY"):
        found.append("openai")
    return found


def is_loopback_url(url: str) -> bool:
    """True when the URL's host is this machine (localhost, 127.0.0.0/8, ::1)."""
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def describe_privacy(analysts: Sequence[object]) -> str:
    """Per LLM analyst, whether identities were pseudonymized: ``"pseudonymization: claude
    on, local off"``; empty when no analyst sends anything anywhere."""
    parts = [
        f"{getattr(a, 'name', '?')} {'on' if flag else 'off'}"
        for a in analysts
        if isinstance(flag := getattr(a, "pseudonymize", None), bool)
    ]
    return f"pseudonymization: {', '.join(parts)}" if parts else ""
