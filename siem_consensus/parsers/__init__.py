"""Parsers, one module per format family, registered by name in :data:`PARSERS`.

Importing this package registers every built-in parser: ``asa``, ``cicflowmeter``, ``ecs``,
``iptables``, ``paloalto``, ``pfsense``, ``zeek`` and ``zeek-json``.
"""

from . import asa, cicflowmeter, ecs, iptables, paloalto, pfsense, zeek  # noqa: F401 (registers)
from .base import PARSERS, Parser, get_parser

__all__ = ["PARSERS", "Parser", "get_parser"]
