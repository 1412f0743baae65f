"""SIEM connectors: read events in, write decisions back.

Vendor SDKs are optional extras imported only when a connector is used.
"""

from .base import CONNECTORS, Connector, WriteFailure, WriteResult, get_connector
from .opensearch import OpenSearchConnector

__all__ = [
    "CONNECTORS",
    "Connector",
    "OpenSearchConnector",
    "WriteFailure",
    "WriteResult",
    "get_connector",
]
