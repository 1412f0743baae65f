"""Parsers, one module per format family, registered by name in :data:`PARSERS`.

Importing this package registers every built-in parser: ``ait-ads``, ``asa``, ``cicflowmeter``,
``ecs``, ``fastlog``, ``iptables``, ``paloalto``, ``pfsense``, ``splunk``, ``suricata``,
``wazuh``, ``zeek``, ``zeek-json``, the DNS logs ``zeek-dns`` and ``zeek-dns-json``, the
authentication logs ``openssh``, ``zeek-ssh`` and ``zeek-ssh-json``, and the CERT insider
formats ``cert``, ``cert-logon``, ``cert-device``, ``cert-file``, ``cert-http``, ``cert-email``.
"""

# Registered first: format detection breaks ties in registry order, and these envelope formats
# (a JSON object of a given shape) must win over the line formats whose sniffers search for a
# marker anywhere in a line, e.g. an ASA tag inside a Splunk ``_raw`` or a Wazuh ``full_log``.
from . import splunk, suricata, wazuh  # noqa: F401 (registers)

# isort: split
# Before ``zeek``: ssh.log and dns.log are Zeek logs too, and the conn sniffers accept any Zeek row.
from . import openssh, zeek_dns, zeek_ssh  # noqa: F401 (registers)

# isort: split
from . import aitads, asa, cert, cicflowmeter, ecs, fastlog, iptables, paloalto, pfsense, zeek  # noqa: F401 (registers)
from .base import PARSERS, Parser, get_parser

__all__ = ["PARSERS", "Parser", "get_parser"]
