"""The pipeline as a partitioned stream job on Kafka (Quix Streams).

Start one worker per process (``siem-consensus stream firewall ...`` or :class:`StreamWorker`);
workers with the same consumer group share the partitions and take over each other's state
when one stops. See ``docs/scale.md`` for the topology, guarantees and measured capacity.

Needs the ``stream`` extra: ``pip install "siem-consensus[stream]"``.
"""

from ._control import send_end_of_input
from ._decide import DecideSettings, decide_incidents
from ._detect import detect_session
from ._families import FAMILIES, Family, get_family
from ._settings import StreamSettings
from ._topics import StreamTopics
from ._worker import StreamWorker

__all__ = [
    "DecideSettings",
    "FAMILIES",
    "Family",
    "StreamSettings",
    "StreamTopics",
    "StreamWorker",
    "decide_incidents",
    "detect_session",
    "get_family",
    "send_end_of_input",
]
