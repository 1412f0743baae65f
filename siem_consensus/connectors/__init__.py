"""SIEM connectors: read events in, write decisions back.

Vendor SDKs are optional extras imported only when a connector is used.
"""

from .base import CONNECTORS, Connector, ConnectorQuery, WriteFailure, WriteResult, get_connector
from .config import ConnectorConfig, interpolate, load_connector_config
from .elasticsearch import ElasticsearchConnector
from .kafka import KafkaConnector
from .opensearch import OpenSearchConnector
from .splunk import SplunkConnector

__all__ = [
    "CONNECTORS",
    "Connector",
    "ConnectorConfig",
    "ConnectorQuery",
    "ElasticsearchConnector",
    "KafkaConnector",
    "OpenSearchConnector",
    "SplunkConnector",
    "WriteFailure",
    "WriteResult",
    "get_connector",
    "interpolate",
    "load_connector_config",
]
