"""One stream worker: a Quix Streams application running ingest, detect and decide.

Every worker of a consumer group runs the same three stages; Kafka spreads the partitions of
each stage's input topic over the workers, so start more workers to scale out:

1. **ingest** (input topic): parse each message (the batch parsers), key the event by its
   entity and write it to the events topic; a message that is no event goes to the
   dead-letter topic with its partition and offset; an end-of-input marker is forwarded to
   every events partition (:mod:`._control`).
2. **detect** (events topic): each entity's events gather in a session window held in the
   engine's state store (RocksDB, backed by a compacted changelog topic, so a partition moving
   to another worker takes its state along); the sessions one message closes go through the
   detect stage together (:mod:`._sessions`, :mod:`._detect`, :mod:`._screen`) and their
   incidents go to the candidates topic keyed by incident id.
   Each closed session's population share goes to the population topic, and an events
   partition closed at end of input says so there and on every candidates partition
   (:mod:`._population`).
3. **decide** (candidates topic): the batch command's graph decides each incident
   (:mod:`._decide`) with the job's population attached; the decision goes to the compacted
   decisions topic keyed by incident id, and to the ``--to`` sinks. With ``decide_at`` =
   ``end-of-input`` candidates first wait in a window of the engine until every events
   partition has closed.

With ``exactly-once`` processing each stage consumes, updates its state and produces inside
one Kafka transaction: a worker killed at any point leaves no partial output visible to
``read_committed`` readers, and its partitions resume from the last committed transaction.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ..analysts.llm.base import LLMSettings
from ..errors import MissingDependencyError
from ..parsers._zone import naive_zone
from ._codec import RowParser, event_time_ms
from ._control import (
    END_HEADER,
    END_OF_TIME_MS,
    END_VALUE,
    end_gate,
    is_control,
    partition_key,
)
from ._decide import decide_incidents
from ._detect import detect_sessions
from ._families import Family, get_family, segment_key
from ._ledger import BudgetLedger, SharedBudget
from ._population import END_PREFIX, PopulationTable, attach
from ._rate import share_rates
from ._sessions import closed_sessions
from ._settings import StreamSettings
from ._topics import StreamTopics

__all__ = ["StreamSettings", "StreamWorker"]

log = logging.getLogger("siem_consensus.stream")
_RETENTION_MS = 7 * 86_400_000
_HOLD_MS = 30 * 86_400_000  # decide at end-of-input: candidates wait up to 30 days
_R = TypeVar("_R")


class StreamWorker:
    """Build and run one worker process of a stream job.

    Args:
        settings: The job's settings.

    Attributes:
        counters: ``messages``, ``events``, ``dead_letters``, ``no_entity``, ``sessions``,
            ``detect_runs`` (messages that closed sessions: one detector run each, over all
            the sessions it closed), ``candidates``, ``decisions``, ``late`` handled by
            this worker, ``restarts``,
            ``changelog_echoes`` (state records skipped: :func:`skip_changelog_echo`), and
            ``population_incomplete`` / ``population_behind`` (decided with a population
            read before its end: the wait for it timed out).
        seconds: Wall time spent in the ``ingest`` (parse, key), ``detect`` (detectors over
            closed sessions) and ``decide`` (triage graph) functions; the engine's own work
            (state, windows, Kafka) is not included. After :meth:`run`, also ``cpu`` (CPU
            seconds of the whole process, every thread) and ``cpu_main`` (of the thread
            that ran it: the engine's Python work, the stages and start-up; the rest is
            mostly the Kafka clients' own threads).
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
        self._table: PopulationTable | None = None
        self._span_s = settings.span_s
        self.app = self._application()
        self._partitions = self._input_partitions()
        self._build()
        self.budget = self._shared_budget()
        self.settings, self.members = share_rates(self.settings)

    def _shared_budget(self) -> SharedBudget | None:
        """The worker's share of the job's budget (see :mod:`._ledger`), None without one."""
        s = self.settings
        if s.budget is None:
            return None
        limit, unit = s.budget
        ledger = BudgetLedger(s.bootstrap, self.topics.budget, s.group_id, limit, unit, s.kafka)
        budget = SharedBudget(ledger, s.budget_block or limit / 10)
        llm = s.decide.llm_settings or LLMSettings()
        llm = dataclasses.replace(llm, budget=budget)
        self.settings = dataclasses.replace(
            s, decide=dataclasses.replace(s.decide, llm_settings=llm)
        )
        return budget

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
            on_processing_error=functools.partial(skip_changelog_echo, self.counters),
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

    def _topic(
        self,
        name: str,
        *,
        compact: bool = False,
        partitions: int | None = None,
        retention_ms: int = _RETENTION_MS,
        **kwargs: Any,
    ) -> Any:
        from quixstreams.models import TopicConfig

        # Explicit retention: the engine derives its changelog topics' settings from it.
        extra = {"retention.ms": str(retention_ms), "retention.bytes": "-1"}
        if compact:
            extra["cleanup.policy"] = "compact"
        count = partitions or self._partitions
        config = TopicConfig(count, self.settings.replication, extra)
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
        population = self._topic(self.topics.population, compact=True, partitions=1)
        if self.settings.budget is not None:  # the ledger: created here, written by _ledger
            self._topic(self.topics.budget, partitions=1, retention_ms=-1)

        ingest = self.app.dataframe(raw)
        ingest = ingest.apply(self._timed("ingest", self._ingest), expand=True, metadata=True)
        ingest.to_topic(
            lambda value, key, ts, headers: dead if value["kind"] == "dead" else events,
            key=lambda value: value["key"],
        )

        def routed(value: Any, key: Any, ts: int, headers: Any) -> Any:
            return population if value["kind"] in ("share", "ended") else candidates

        gated = self.app.dataframe(events)
        gated = gated.filter(self._gate, stateful=True, metadata=True)
        gated = gated.set_timestamp(
            lambda value, key, ts, headers: END_OF_TIME_MS if value.get("close") else ts
        )
        gap_ms = self.family.gap_s * 1000
        late = self.settings.lateness_s
        grace_ms = gap_ms if late is None else late * 1000
        window = gated.session_window(gap_ms, grace_ms=grace_ms, on_late=self._late)
        detect = closed_sessions(window.collect())
        detect = detect.apply(self._timed("detect", self._detect), expand=True, metadata=True)
        # Stamped now, not with log time: brokers apply time retention to record timestamps.
        detect = detect.set_timestamp(lambda value, key, ts, headers: _now_ms())
        detect.to_topic(routed, key=lambda value: value["key"])

        decide = self.app.dataframe(candidates)
        if self.settings.decide_at == "end-of-input":
            decide = decide.filter(self._gate_events, stateful=True, metadata=True)
            decide = decide.set_timestamp(
                lambda value, key, ts, headers: END_OF_TIME_MS if value.get("close") else ts
            )
            held = decide.session_window(_HOLD_MS, grace_ms=_HOLD_MS, on_late=self._late_candidate)
            decide = held.collect().final(closing_strategy="partition")
            decide = decide.filter(
                lambda value, key, ts, headers: not is_control(key), metadata=True
            )
            decide = decide.apply(lambda window: _first_candidate(window["value"]))
        else:
            decide = decide.filter(lambda value: value.get("kind") == "candidate")
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
        ts_ms = event_time_ms(row)
        if ts_ms is None:
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
        key = segment_key(entity, ts_ms, self._span_s)  # a session is cut at the span
        return [{"kind": "event", "key": key, "row": row}]

    def _gate(self, value: Any, key: Any, ts: int, headers: Any, state: Any) -> bool:
        self._last = time.monotonic()
        return end_gate(value, state, self._partitions)

    def _late(self, value: Any, key: Any, *args: Any, **kwargs: Any) -> bool:
        self.counters["late"] += 1
        return False

    def _gate_events(self, value: Any, key: Any, ts: int, headers: Any, state: Any) -> bool:
        """The end-of-input gate of a candidates partition: closes once every events
        partition has closed."""
        self._last = time.monotonic()
        return end_gate(value, state, self._partitions)

    def _late_candidate(self, value: Any, key: Any, *args: Any, **kwargs: Any) -> bool:
        self.counters["late_candidates"] += 1
        log.warning("candidate %s arrived after end of input: not decided again", key)
        return False

    def _detect(
        self, closed: Mapping[str, Any], key: Any, ts: int, headers: Any
    ) -> list[dict[str, Any]]:
        """The sessions one message closed, detected together (see :func:`closed_sessions`);
        at the end of input, the end records (after those sessions)."""
        self._last = time.monotonic()
        if closed.get("close"):
            return self._ended()
        sessions = closed["sessions"]
        rows = [
            [item["row"] for item in values if item.get("kind") == "event"]
            for _key, _start, values in sessions
        ]
        self.counters["sessions"] += len(sessions)
        self.counters["detect_runs"] += 1
        measure = self.settings.measures_population
        found = detect_sessions(self.family, rows, population=measure)
        out: list[dict[str, Any]] = []
        for (entity, start, _values), (incidents, share) in zip(sessions, found, strict=True):
            self.counters["candidates"] += len(incidents)
            out += [{"kind": "candidate", "key": i["id"], "incident": i} for i in incidents]
            if share is not None:
                out.append({"kind": "share", "key": f"{entity}@{start}", "share": share})
        return out

    def _ended(self) -> list[dict[str, Any]]:
        """An events partition closed at end of input: tell the population topic and every
        candidates partition (after the sessions it released, produced before)."""
        partition = self._qs.message_context().partition
        marks = [
            {"kind": "control", "key": partition_key(p, self._partitions), "from": partition}
            for p in range(self._partitions)
        ]
        return [
            {"kind": "ended", "key": f"{END_PREFIX}{partition}", "partition": partition},
            *marks,
        ]

    def _decide(self, candidate: Mapping[str, Any]) -> dict[str, Any]:
        self._last = time.monotonic()
        incident = candidate["incident"]
        if self._table is not None:
            if self.settings.decide_at == "end-of-input":
                if not self._table.wait_ended(self._partitions, timeout=60):
                    self.counters["population_incomplete"] += 1
                    log.warning("population incomplete after 60 s; deciding %s", incident["id"])
            elif not self._table.catch_up(timeout=10):  # at least its own session's share
                self.counters["population_behind"] += 1
                log.warning("population not caught up after 10 s; deciding %s", incident["id"])
            incident = attach(incident, self._table.population())
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
        the worker starts a new engine application and goes on. A worker with a shared
        budget releases what it was granted and did not spend when it stops.
        """
        if self.members is not None:  # the group's size splits the job's rate limits
            self.members.start()
        try:
            with naive_zone(self.settings.timezone):
                self._run_until_done(until_idle)
        finally:
            self.seconds["cpu_main"] = time.thread_time()
            self.seconds["cpu"] = time.process_time()
            if self.members is not None:
                self.members.stop()
            if self.budget is not None:  # what this worker will not spend goes back
                self.budget.ledger.release(self.budget.unspent())
                self.budget.ledger.close()

    def _run_until_done(self, until_idle: float | None) -> None:
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
        self._table = None
        if self.settings.measures_population and self.family.name == "firewall":
            s = self.settings
            horizon = _RETENTION_MS / 1000
            table = PopulationTable(s.bootstrap, self.topics.population, s.kafka, horizon)
            self._table = table.start()
        try:
            self._run_app(until_idle)
        finally:
            if self._table is not None:
                self._table.stop()

    def _run_app(self, until_idle: float | None) -> None:
        if not until_idle:
            self.app.run(collect=False)
            return
        from ._idle import IdleWatch

        s = self.settings
        topics = [s.topic, self.topics.events, self.topics.candidates]
        watch = IdleWatch(s.bootstrap, s.group_id, topics, s.kafka)
        with watch.stopping(self.app, until_idle, lambda: self._last):
            self.app.run(collect=False)


def skip_changelog_echo(counters: Counter[str], exc: Exception, row: Any, logger: Any) -> bool:
    """The engine's processing-error callback: skip a record of a state changelog topic.

    Quix Streams 3.28.1 pauses a worker's changelog partitions right after the group assigns
    them, and reads them only to restore state. Rarely (seen about once in four runs of a
    worker on a loaded 2-core machine, always the record at offset 0) such a partition is
    fetched anyway and its record reaches the processing loop as if it were input, where no
    stage exists for its topic: ``KeyError('changelog__...')``. Its state is already in the
    worker's store: the engine keeps a partition's input paused until the store has restored
    its changelog to the end, so a record there was either restored then or written since by
    this worker, the partition's owner. So the record is skipped and counted
    (``changelog_echoes``) instead of stopping the worker. Any other error is the engine's
    default: logged, and it stops the worker.
    """
    from quixstreams.error_callbacks import default_on_processing_error

    topic = str(getattr(row, "topic", ""))
    if isinstance(exc, KeyError) and exc.args == (topic,) and topic.startswith("changelog__"):
        counters["changelog_echoes"] += 1
        log.warning(
            "skipped a record of state changelog %s[%s] at offset %s, read as input",
            topic,
            getattr(row, "partition", "?"),
            getattr(row, "offset", "?"),
        )
        return True
    return bool(default_on_processing_error(exc, row, logger))


def _event_timestamp(value: Any, headers: Any, timestamp: int, timestamp_type: Any) -> int:
    """Event time of an events-topic message: the log time; markers keep their own."""
    if isinstance(value, dict) and value.get("kind") == "event":
        return int(value["row"]["timestamp"]) // 1000
    return timestamp


def _first_candidate(held: list[Any]) -> Mapping[str, Any]:
    """One incident's candidates held until end of input (more than one only if redelivered)."""
    candidate: Mapping[str, Any] = next(v for v in held if v.get("kind") == "candidate")
    return candidate


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _is_end_marker(headers: Any) -> bool:
    return any(name == END_HEADER and bytes(v or b"") == END_VALUE for name, v in headers or ())


def _excerpt(value: bytes | None) -> str:
    return (value or b"")[:200].decode(errors="replace")
