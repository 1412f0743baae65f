"""Test doubles shipped with siem_consensus, for our tests and for yours.

:class:`ProviderSimulator` is a local Anthropic + OpenAI API server that the official SDKs
talk to over HTTP; script its answers with payloads or :class:`Fault` objects. The pytest
fixture ``provider_simulator`` lives in :mod:`siem_consensus.testing.pytest_plugin`.
:class:`MemoryConnector` is an in-memory SIEM (events in, ECS decision documents out);
:mod:`siem_consensus.testing.noida` and :mod:`siem_consensus.testing.splunk` start the local
servers the connector tests run against.
See ``docs/testing.md``.
"""

from siem_consensus.testing._models import (
    Fault,
    FaultKind,
    Provider,
    RecordedRequest,
    Reply,
    ReplyFunction,
    ScriptItem,
)
from siem_consensus.testing._script import ScriptedProvider
from siem_consensus.testing.memory import MemoryConnector
from siem_consensus.testing.provider_sim import ProviderSimulator

__all__ = [
    "Fault",
    "FaultKind",
    "MemoryConnector",
    "Provider",
    "ProviderSimulator",
    "RecordedRequest",
    "Reply",
    "ReplyFunction",
    "ScriptItem",
    "ScriptedProvider",
]
