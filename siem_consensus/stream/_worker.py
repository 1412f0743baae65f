"""One stream worker: a Quix Streams application running ingest, detect and decide.

Every worker of a consumer group runs the same three stages; Kafka spreads the partitions of
each stage's input topic over the workers, so start more workers to scale out:

1. **ingest** (input topic): parse each message (the batch parsers), key the event by its
   entity and write it to the events topic; a message that is no event goes to the
   dead-letter topic with its partition and offset; an end-of-input marker is forwarded to
   every events partition (:mod:`._control`).
2. **detect** (events topic): each entity's events gather in a session window held in the
   engine's state store (RocksDB, backed by a compacted changelog topic, so a partition moving
   to another worker takes its state along); a closed session goes through a fresh detector
   (:mod:`._detect`) and its incidents go to the candidates topic keyed by incident id.
3. **decide** (candidates topic): the batch command's graph decides each incident
   (:mod:`._decide`); the decision goes to the compacted decisions topic keyed by incident id,
   and to the ``--to`` sinks.

With ``exactly-once`` processing each stage consumes, updates its state and produces inside
one Kafka transaction: a worker killed at any point leaves no partial output visible to
``read_committed`` readers, and its partitions resume from the last committed transaction.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from ..errors import MissingDependencyError
from ._codec import RowParser, event_time_ms
from ._control import (
    END_HEADER,
    END_OF_TIME_MS,
    END_VALUE,
    end_gate,
    is_control,
    partition_key,
)
from ._decide import DecideSettings, decide_incidents
from ._detect import detect_session
from ._families import Family, get_family
from ._topics import StreamTopics

__all__ = ["StreamSettings", "StreamWorker"]

log = logging.getLogger("siem_consensus.stream")
_RETENTION_MS = 7 * 86_400_000
_R = TypeVar("_R")


@dataclass
class StreamSettings:
    """Everything one worker needs.

    Attributes:
        family: ``firewall``, ``ids`` or ``insider``.
        bootstrap: Kafka ``host:port`` list.
        topic: The input topic (raw records).
        group: Consumer group: workers with the same group share the work.
        input_format: Parser name; detected per message when None (slower).
        decide: How decisions are made (analysts, policy, sinks).
        state_dir: Local RocksDB directory (a fresh temporary one when None: state is
            recovered from the changelog topics).
        kafka: Extra librdkafka settings (security, timeouts) for every client.
        replication: Replication factor of the topics the job creates.
        commit_interval: Seconds between transaction commits.
        guarantee: ``exactly-once`` (Kafka transactions: needs a broker that aborts the open
            transactions of dead producers, as Kafka does) or ``at-least-once`` (a dead
            worker's last uncommitted messages are processed again: sessions drop repeated
            events by id and decisions are keyed by incident id, so the outcome is the same).
        lateness_s: How far (log time) an event may trail the newest event of its events
            partition and still count; the family's session gap when None. Input partitions
            read at different speeds trail each other: a back-fill of an unkeyed topic needs
            about its whole time span (see docs/scale.md).
    """

    family: str
    bootstrap: str
    topic: str
    group: str | None = None
    input_format: str | None = None
    decide: DecideSettings = field(default_factory=DecideSettings)
    state_dir: str | None = None
    kafka: Mapping[str, Any] = field(default_factory=dict)
    replication: int = 1
    commit_interval: float = 1.0
    lateness_s: int | None = None
    guarantee: Literal["exactly-once", "at-least-once"] = "exactly-once"

    @property
    def group_id(self) -> str:
        """The consumer group, ``siem-consensus-<family>-<topic>`` by default."""
        return self.group or f"siem-consensus-{self.family}-{self.topic}"


class StreamWorker:
    """Build and run one worker process of a stream job.

    Args:
        settings: The job's settings.

    Attributes:
        counters: ``messages``, ``events``, ``dead_letters``, ``no_entity``, ``sessions``,
            ``candidates``, ``decisions``, ``late`` handled by this worker, and ``restarts``.
        seconds: Wall time spent in the ``ingest`` (parse, key), ``detect`` (detectors over
            closed sessions) and ``decide`` (triage graph) functions; the engine's own work
            (state, windows, Kafka) is not included.
    """

    def __init__(self, settings: StreamSettings) -> None:
        try:
            import quixstreams
        except ModuleNotFoundError:
            raise MissingDependencyError("quixstreams", "stream") from None
        self.settings = settings
        self.family: Family = get_family(settings.family)
        self.topics = StreamTopics(settings.topic, self.family.name)
        self.counters: Counter[str] = Counter()
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self._last = time.monotonic()
        self._qs = quixstreams
        self._parser = RowParser(settings.input_format or self.family.default_format)
        self._state_dir = settings.state_dir or tempfile.mkdtemp(prefix="siem-stream-")
        self.app = self._application()
        self._partitions = self._input_partitions()
        self._build()

    def _application(self) -> Any:
        s = self.settings
        extra = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000, **s.kafka}
        return self._qs.Application(
            broker_address=s.bootstrap,
            consumer_group=s.group_id,
            auto_offset_reset="earliest",
            processing_guarantee=s.guarantee,
            commit_interval=s.commit_interval,
            state_dir=self._state_dir,
            consumer_extra_config=extra,
            # A dead worker's open transaction holds back read_committed readers of its
            # partitions until the broker aborts it: keep that short (librdkafka: 60 s).
            producer_extra_config={"transaction.timeout.ms": 10_000, **s.kafka},
            loglevel="WARNING",
            on_processing_error=None,
        )

    def _input_partitions(self) -> int:
        from confluent_kafka.admin import AdminClient

        admin = AdminClient({"bootstrap.servers": self.settings.bootstrap, **self.settings.kafka})
        metadata = admin.list_topics(self.settings.topic, timeout=10)
        found = metadata.topics.get(self.settings.topic)
        if found is None or found.error is not None or not found.partitions:
            from ..errors import ConnectorError

            raise ConnectorError(
                f"input topic {self.settings.topic!r} not found on {self.settings.bootstrap}; "
                "create it (with the partitions you want to scale to) before starting workers"
            )
        return len(found.partitions)

    def _topic(self, name: str, *, compact: bool = False, **kwargs: Any) -> Any:
        from quixstreams.models import TopicConfig

        # Explicit retention: the engine derives its changelog topics' settings from it.
        extra = {"retention.ms": str(_RETENTION_MS), "retention.bytes": "-1"}
        if compact:
            extra["cleanup.policy"] = "compact"
        config = TopicConfig(self._partitions, self.settings.replication, extra)
        return self.app.topic(
            name, key_serializer="str", key_deserializer="str", config=config, **kwargs
        )

    def _build(self) -> None:
        raw = self.app.topic(
            self.settings.topic, value_deserializer="bytes", key_deserializer="bytes"
        )
        events = self._topic(self.topics.events, timestamp_extractor=_event_timestamp)
        dead = self._topic(self.topics.dead_letters)
        candidates = self._topic(self.topics.candidates)
        decisions = self._topic(self.topics.decisions, compact=True)

        ingest = self.app.dataframe(raw)
        ingest = ingest.apply(self._timed("ingest", self._ingest), expand=True, metadata=True)
        ingest.to_topic(
            lambda value, key, ts, headers: dead if value["kind"] == "dead" else events,
            key=lambda value: value["key"],
        )

        detect = self.app.dataframe(events)
        detect = detect.filter(self._gate, stateful=True, metadata=True)
        detect = detect.set_timestamp(
            lambda value, key, ts, headers: END_OF_TIME_MS if value.get("close") else ts
        )
        gap_ms = self.family.gap_s * 1000
        late = self.settings.lateness_s
        grace_ms = gap_ms if late is None else late * 1000
        window = detect.session_window(gap_ms, grace_ms=grace_ms, on_late=self._late)
        detect = window.collect().final(closing_strategy="partition")
        detect = detect.filter(lambda value, key, ts, headers: not is_control(key), metadata=True)
        detect = detect.apply(self._timed("detect", self._detect), expand=True)
        # Stamped now, not with log time: brokers apply time retention to record timestamps.
        detect = detect.set_timestamp(lambda value, key, ts, headers: _now_ms())
        detect.to_topic(candidates, key=lambda incident: incident["id"])

        decide = self.app.dataframe(candidates)
        decide = decide.apply(self._timed("decide", self._decide))
        decide.to_topic(decisions, key=lambda value: value["decision"]["incident_id"])

    # -- stages ---------------------------------------------------------------------------

    def _timed(self, stage: str, function: Callable[..., _R]) -> Callable[..., _R]:
        """``function``, adding its wall time to ``seconds[stage]``."""

        def timed(*args: Any) -> _R:
            started = time.perf_counter()
            try:
                return function(*args)
            finally:
                self.seconds[stage] += time.perf_counter() - started

        return timed

    def _ingest(self, value: bytes | None, key: Any, ts: int, headers: Any) -> list[dict[str, Any]]:
        ctx = self._qs.message_context()
        self._last = time.monotonic()
        self.counters["messages"] += 1
        if _is_end_marker(headers):
            return [
                {
                    "kind": "control",
                    "key": partition_key(p, self._partitions),
                    "from": ctx.partition,
                }
                for p in range(self._partitions)
            ]
        source = f"{ctx.topic}:{ctx.partition}"
        parsed = self._parser.parse(value, source, ctx.offset)
        if parsed.dead is not None:
            self.counters["dead_letters"] += 1
            letter = {**parsed.dead.model_dump(mode="json"), "partition": ctx.partition}
            letter["offset"] = ctx.offset
            return [{"kind": "dead", "key": f"{source}:{ctx.offset}", "dead_letter": letter}]
        row = parsed.row
        if row is None:
            return []
        if event_time_ms(row) is None:
            self.counters["dead_letters"] += 1
            letter = {"source": source, "line": ctx.offset, "partition": ctx.partition,
                      "offset": ctx.offset, "reason": "event without a timestamp: a stream job "
                      "windows by event time", "raw_excerpt": _excerpt(value)}  # fmt: skip
            return [{"kind": "dead", "key": f"{source}:{ctx.offset}", "dead_letter": letter}]
        entity = self.family.entity(row)
        if entity is None:
            self.counters["no_entity"] += 1  # as in batch: counted, not detectable
            return []
        self.counters["events"] += 1
        return [{"kind": "event", "key": entity, "row": row}]

    def _gate(self, value: Any, key: Any, ts: int, headers: Any, state: Any) -> bool:
        self._last = time.monotonic()
        return end_gate(value, state, self._partitions)

    def _late(self, value: Any, key: Any, *args: Any, **kwargs: Any) -> bool:
        self.counters["late"] += 1
        return False

    def _detect(self, session: Mapping[str, Any]) -> list[dict[str, Any]]:
        self._last = time.monotonic()
        rows = [item["row"] for item in session["value"] if item.get("kind") == "event"]
        self.counters["sessions"] += 1
        incidents = detect_session(self.family, rows)
        self.counters["candidates"] += len(incidents)
        return incidents

    def _decide(self, incident: Mapping[str, Any]) -> dict[str, Any]:
        self._last = time.monotonic()
        report = decide_incidents(self.family, [incident], self.settings.decide)
        self.counters["decisions"] += len(report.decisions)
        decision = report.decisions[0].model_dump(mode="json")
        return {"decision": decision, "incident": report.incidents[0].model_dump(mode="json")}

    # -- running --------------------------------------------------------------------------

    def run(self, until_idle: float | None = None) -> None:
        """Process until stopped (SIGTERM, Ctrl-C), or until the whole group is idle.

        With ``until_idle`` the worker stops once it has processed nothing for that many
        seconds, the group's committed offsets on the job's topics have not moved for as long
        and nothing is left to read (:mod:`._idle`): a worker does not leave while another one
        still produces work for it. Give more than twice the consumer session timeout (6 s)
        so that a rebalance is not taken for the end.

        A commit refused because the group moved on (a rebalance raced the commit) loses
        nothing: the uncommitted work is done again, by this worker or the new owner. Local
        state found ahead of its changelog (a partition that came back after another worker
        wrote it) is dropped: the changelog topic is the state's source of truth. In both cases
        the worker starts a new engine application and goes on.
        """
        from quixstreams.checkpointing.exceptions import CheckpointConsumerCommitError
        from quixstreams.state.exceptions import InvalidStoreChangelogOffset

        while True:
            try:
                self._run_once(until_idle)
                return
            except CheckpointConsumerCommitError as exc:
                self.counters["restarts"] += 1
                log.warning("commit refused (%s); restarting the application", exc)
            except InvalidStoreChangelogOffset as exc:
                self.counters["restarts"] += 1
                log.warning("local state ahead of its changelog (%s); rebuilding it", exc)
                shutil.rmtree(self._state_dir, ignore_errors=True)
            self.app = self._application()
            self._build()

    def _run_once(self, until_idle: float | None) -> None:
        if not until_idle:
            self.app.run(collect=False)
            return
        from ._idle import IdleWatch

        s = self.settings
        topics = [s.topic, self.topics.events, self.topics.candidates]
        watch = IdleWatch(s.bootstrap, s.group_id, topics, s.kafka)
        with watch.stopping(self.app, until_idle, lambda: self._last):
            self.app.run(collect=False)


def _event_timestamp(value: Any, headers: Any, timestamp: int, timestamp_type: Any) -> int:
    """Event time of an events-topic message: the log time; markers keep their own."""
    if isinstance(value, dict) and value.get("kind") == "event":
        return int(value["row"]["timestamp"]) // 1000
    return timestamp


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _is_end_marker(headers: Any) -> bool:
    return any(name == END_HEADER and bytes(v or b"") == END_VALUE for name, v in headers or ())


def _excerpt(value: bytes | None) -> str:
    return (value or b"")[:200].decode(errors="replace")
