"""Zeek ``ssh.log``: the TSV format with ``#`` directives (``zeek-ssh``) and JSON lines
(``zeek-ssh-json``).

One row is one SSH connection. Zeek infers from the encrypted traffic whether the client
authenticated (``auth_success``: ``T``/``F``, JSON ``true``/``false``, unset when it could not
tell) and how many attempts it saw (``auth_attempts``). Mapping:

* ``ts`` -> timestamp; ``id.orig_h``/``id.orig_p`` -> source (the client);
  ``id.resp_h``/``id.resp_p`` -> destination (the server);
* ``auth_success`` -> ``event_outcome`` ``success``/``failure`` (null when unset);
* ``auth_attempts`` -> ``auth_attempts``: every attempt the connection made, the successful one
  included, so a success after two attempts means one failure before it;
* ``event_action`` ``logon`` when Zeek saw an attempt or an outcome, else ``connection``;
  ``event_category`` ``authentication``;
* ``direction`` (``INBOUND``/``OUTBOUND``, from Zeek's ``Site::local_nets``), ``client`` and
  ``server`` (software banners) go into ``message``. The detector judges inside and outside by
  its own ``internal_networks``, which need no Zeek configuration.

Zeek does not log user names, so detections on these logs are per client and server.
The TSV reader follows the ``conn.log`` reader (``#separator``, ``#fields``, ``#empty_field``,
``#unset_field``; ``#`` lines are skipped lines); a file without ``#fields`` uses the default
ssh.log column order below. These parsers are registered before ``zeek``/``zeek-json``, which
also accept Zeek rows of no recognisable type, and they recognise a file by its ``#path ssh``
or its ssh-only columns (so this module must not import ``zeek``, which would register it
first: what both share is :mod:`._zeek_tsv`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Final

from ._values import to_count, to_ip, to_port
from ._values import to_text as _text
from ._zeek_tsv import ZeekJsonLog, ZeekLog, ZeekTsvLog, zeek_time
from .base import LineError, register

__all__ = ["SSH", "ZeekSshJsonParser", "ZeekSshParser", "ssh_row", "zeek_time"]

DEFAULT_FIELDS: Final = (
    *("ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "version"),
    *("auth_success", "auth_attempts", "direction", "client", "server"),
)
"""Column order of a default ``ssh.log`` (used when a file has no ``#fields`` line)."""

_TRUE: Final = {"T": True, "F": False, "true": True, "false": False}


def ssh_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """Event columns from a Zeek ssh record (dotted names, nulls already removed).

    Raises:
        LineError: no client/server address, or a value of the wrong type.
    """
    for key in ("id.orig_h", "id.resp_h"):
        if record.get(key) is None:
            raise LineError(f"not a Zeek ssh record: no {key}")
    success = _success(record.get("auth_success"))
    attempts = to_count(record.get("auth_attempts"), "auth_attempts")
    if attempts is not None and attempts > 2**31 - 1:
        raise LineError(f"auth_attempts {attempts} is out of range")
    ts = record.get("ts")
    seen = success is not None or bool(attempts)
    notes = [
        f"{key}={_text(record.get(key), key)}"
        for key in ("direction", "client", "server")
        if record.get(key) is not None
    ]
    return {
        "timestamp": None if ts is None else zeek_time(ts),
        "event_action": "logon" if seen else "connection",
        "event_outcome": None if success is None else ("success" if success else "failure"),
        "event_category": "authentication",
        "source_ip": to_ip(record["id.orig_h"], "id.orig_h"),
        "source_port": to_port(record.get("id.orig_p"), "id.orig_p"),
        "destination_ip": to_ip(record["id.resp_h"], "id.resp_h"),
        "destination_port": to_port(record.get("id.resp_p"), "id.resp_p"),
        "network_transport": "tcp",
        "auth_attempts": attempts,
        "message": " ".join(notes) or None,
    }


def _success(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value in _TRUE:
        return _TRUE[value]
    raise LineError(f"auth_success is not T/F or true/false: {str(value)[:20]!r}")


SSH: Final = ZeekLog(name="ssh", default_fields=DEFAULT_FIELDS, row=ssh_row)
"""The ssh.log type (recognised by its ``#path ssh`` or its ``auth_*`` columns)."""


@register
class ZeekSshParser(ZeekTsvLog):
    """Zeek ``ssh.log`` in its native TSV format (``#fields`` header)."""

    name: ClassVar[str] = "zeek-ssh"
    description: ClassVar[str] = "Zeek ssh.log TSV (auth_success, auth_attempts, direction)"
    log: ClassVar[ZeekLog] = SSH


@register
class ZeekSshJsonParser(ZeekJsonLog):
    """Zeek ``ssh.log`` as JSON lines (``LogAscii::use_json=T``)."""

    name: ClassVar[str] = "zeek-ssh-json"
    description: ClassVar[str] = 'Zeek ssh.log JSON lines ({"id.orig_h":..., "auth_attempts":...})'
    log: ClassVar[ZeekLog] = SSH
