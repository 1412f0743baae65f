"""siem_consensus: consensus-gated triage of security telemetry."""

__version__ = "0.1.0"
