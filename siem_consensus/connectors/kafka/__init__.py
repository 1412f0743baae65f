"""Kafka connector (kafka-python): bounded topic reads, keyed write-back of decisions.

**Reading** assigns every partition of the topic and reads each one from a start offset (the
broker's time index for ``start``; else the group's committed offset when ``group_id`` is set;
else the beginning) up to the end offsets captured when the read starts (or the offset of
``end``), so a read always terminates: messages produced meanwhile are left for the next read.
Partitions are merged oldest first on their messages' Kafka timestamps.
Only committed transactional writes are read (``read_committed``). Each message value is one
record, an ECS JSON document or a raw log line (Cisco ASA, Suricata EVE, ...), parsed by the
project's parsers: ``input_format`` forces one, otherwise each message's format is detected
(:func:`~siem_consensus.parsers.detect.detect_format`). Every message becomes an
:class:`~siem_consensus.models.Event` with id ``{topic}:{partition}:{offset}`` or a
:class:`~siem_consensus.models.DeadLetter` in :attr:`KafkaConnector.dead_letters` (source
``{topic}:{partition}``, line = offset). Messages are parsed ``batch_size`` at a time and
at most about ``_AHEAD`` (10, in ``_kafka_read``) batches are buffered: the topic is never held
in memory.

**Writing** produces one message per decision to ``target_topic`` (``acks=all``) and waits for
every delivery: the value is the decision document every connector writes (the ECS document
of ``siem-consensus export --format ecs`` plus the incident, threshold and recommended actions
under ``siem_consensus``) without its ``_id``; the key is that ``_id``.
The key is deterministic, so on a log-compacted topic a re-run replaces the earlier messages.

kafka-python's bootstrap only reports a timeout, whatever went wrong; the connection failure it
logs meanwhile (refused, TLS, SASL) is caught (``_kafka_errors``) and named in the
:class:`~siem_consensus.errors.ConnectorError`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from itertools import islice
from typing import Any, Final, Self

from ...errors import ConfigError
from ...models import DeadLetter, Event
from ...parsers.base import get_parser
from ...report import Report
from .._documents import BulkTally, decision_documents
from ..base import Connector, WriteResult
from ._decode import Decoder
from ._errors import Failures, delivery_failure
from ._read import Plan, merged_records, plan_read
from ._settings import check_numbers, check_security, client_settings, import_kafka, ms

__all__ = ["KafkaConnector"]

_LINGER_MS: Final = 5


class KafkaConnector(Connector):
    """Read events from a Kafka topic and produce decisions to another.

    Every argument is a plain value (str, int, float, bool, list), so
    :meth:`Connector.from_settings` builds the connector from a TOML table.

    Args:
        bootstrap_servers: ``host:port`` of one or more brokers (a list, or comma-separated).
        topic: Topic to read events from.
        target_topic: Topic that receives one message per decision (make it compacted).
        group_id: Consumer group: reads resume from its committed offsets and commit the
            end offsets once a read completes. Without it nothing is committed.
        input_format: Parser for every message (``asa``, ``ecs``, ``suricata``, ...);
            detected per message when None.
        security_protocol: ``PLAINTEXT``, ``SSL``, ``SASL_PLAINTEXT`` or ``SASL_SSL``.
        ssl_cafile: CA bundle that signed the broker certificates (SSL, SASL_SSL).
        ssl_certfile: Client certificate, for brokers that authenticate clients by TLS.
        ssl_keyfile: Private key of ``ssl_certfile``.
        sasl_mechanism: ``PLAIN``, ``SCRAM-SHA-256`` or ``SCRAM-SHA-512`` (SASL protocols).
        sasl_plain_username: SASL user (PLAIN and SCRAM).
        sasl_plain_password: SASL password; it never appears in messages.
        request_timeout: Seconds to wait for a broker response; also how long a read may
            make no progress before it fails.
        connect_timeout: Seconds to reach the cluster (bootstrap) and to wait for topic
            metadata before failing.
        retries: Times the producer resends a message after a retriable error.
        retry_backoff: Seconds between retries.
        batch_size: Messages fetched and parsed at a time (bounds memory).
    """

    name = "kafka"

    def __init__(
        self,
        bootstrap_servers: str | Sequence[str],
        topic: str,
        target_topic: str = "security-enriched-decisions",
        *,
        group_id: str | None = None,
        input_format: str | None = None,
        security_protocol: str = "PLAINTEXT",
        ssl_cafile: str | None = None,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
        sasl_mechanism: str | None = None,
        sasl_plain_username: str | None = None,
        sasl_plain_password: str | None = None,
        request_timeout: float = 30.0,
        connect_timeout: float = 5.0,
        retries: int = 3,
        retry_backoff: float = 0.5,
        batch_size: int = 1000,
    ) -> None:
        self._kafka = import_kafka()
        self._errors = self._kafka.errors
        servers = (
            bootstrap_servers.split(",")
            if isinstance(bootstrap_servers, str)
            else bootstrap_servers
        )
        self.bootstrap_servers = [s.strip() for s in servers if s.strip()]
        if not self.bootstrap_servers or not topic or not target_topic:
            raise ConfigError("kafka: bootstrap_servers, topic and target_topic must not be empty")
        self.security_protocol = security_protocol.upper()
        credentials = {
            "sasl_plain_username": sasl_plain_username,
            "sasl_plain_password": sasl_plain_password,
        }
        ssl_files = {
            "ssl_cafile": ssl_cafile,
            "ssl_certfile": ssl_certfile,
            "ssl_keyfile": ssl_keyfile,
        }
        check_security(self.security_protocol, sasl_mechanism, credentials, ssl_files)
        check_numbers(
            {"request_timeout": request_timeout, "connect_timeout": connect_timeout}
            | {"batch_size": batch_size},
            {"retries": retries, "retry_backoff": retry_backoff},
        )
        if input_format is not None:
            get_parser(input_format)  # ConfigError listing the formats
        self.topic = topic
        self.target_topic = target_topic
        self.group_id = group_id
        self.input_format = input_format
        self.sasl_mechanism = sasl_mechanism
        self.request_timeout = request_timeout
        self.connect_timeout = connect_timeout
        self.retries = retries
        self.batch_size = batch_size
        self.dead_letters: list[DeadLetter] = []
        self._failures = Failures(self._errors, self, sasl_plain_password or None)
        self._settings = client_settings(
            self.bootstrap_servers,
            self.security_protocol,
            request_timeout=request_timeout,
            connect_timeout=connect_timeout,
            retry_backoff=retry_backoff,
            optional={**ssl_files, "sasl_mechanism": sasl_mechanism, **credentials},
        )
        # Enough for every retry of a message, each waiting up to request_timeout.
        self._delivery_ms = ms(request_timeout) * (retries + 1) + ms(retry_backoff) * retries
        self._producer: Any = None

    @property
    def servers(self) -> str:
        """The bootstrap servers, for messages."""
        return ",".join(self.bootstrap_servers)

    @property
    def rereadable(self) -> bool:
        """False with a ``group_id``: a read commits its end offsets, so the next one starts
        after them and ``members_path`` could not find the events again."""
        return self.group_id is None

    def close(self) -> None:
        """Close the producer (consumers close when their read ends)."""
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(self._errors.KafkaError):
                producer.close(timeout=self.request_timeout)

    def __enter__(self) -> Self:
        return self

    # -- reading ------------------------------------------------------------------------------

    def iter_events(
        self,
        query: Mapping[str, Any] | str | None = None,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> Iterator[Event]:
        """Stream the topic as events, oldest first, each partition up to its end offset.

        Partitions are merged on the Kafka timestamps of their messages (ties: partition
        number), each in offset order, so the same offsets always come in the same order.
        Messages that cannot become events go to :attr:`dead_letters`.

        Args:
            query: A topic to read instead of ``topic`` (Kafka has no query language);
                None, ``""`` and ``"*"`` mean ``topic``.
            start: Read from the first message whose Kafka timestamp is at or after ``start``.
            end: Stop before the first message whose Kafka timestamp is at or after ``end``.

        Raises:
            ConnectorError: Cluster unreachable, authentication refused, topic not found,
                access denied, or no progress for ``request_timeout`` seconds.
        """
        if query is not None and not isinstance(query, str):
            raise ConfigError("kafka: query names a topic (a string); Kafka has no query language")
        topic = self.topic if query in (None, "", "*") else str(query)
        consumer = self._failures.connect(self._new_consumer)
        try:
            plan = plan_read(
                consumer,
                topic,
                start,
                end,
                topic_partition=self._kafka.TopicPartition,
                settings=self,
                failures=self._failures,
            )
            decoder = Decoder(topic, self.input_format)
            records = self._records(consumer, topic, plan)
            while chunk := list(islice(records, self.batch_size)):
                events, letters = decoder.convert(chunk)
                self.dead_letters.extend(letters)
                yield from events
            if self.group_id is not None and plan:
                done = {tp: self._kafka.OffsetAndMetadata(stop) for tp, (_, stop) in plan.items()}
                self._failures.call(
                    "committing the offsets of group", self.group_id, consumer.commit, done
                )
        finally:
            with contextlib.suppress(self._errors.KafkaError):
                consumer.close(autocommit=False)

    def _new_consumer(self) -> Any:
        return self._kafka.KafkaConsumer(
            **self._settings,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            allow_auto_create_topics=False,
            max_poll_records=self.batch_size,
        )

    def _records(self, consumer: Any, topic: str, plan: Plan) -> Iterator[Any]:
        """The plan's records, oldest first across partitions (see :func:`merged_records`)."""
        return merged_records(consumer, topic, plan, self, self._failures)

    # -- writing ------------------------------------------------------------------------------

    def write_decisions(self, report: Report) -> WriteResult:
        """Produce one message per decision to ``target_topic`` and wait for every delivery.

        The value is the decision's ECS document as ``siem-consensus export --format ecs``
        writes it, without ``_id``; the key is that ``_id`` (a hash of incident id and
        detector), so the same incident always lands in the same partition and a compacted
        topic keeps only its latest message. Kafka does not say whether a key existed before:
        every delivered message counts as ``created`` and ``updated`` is always 0.

        Returns:
            The result: a message the broker refused (too large, ...) or that could not be
            delivered within the retries is listed in ``failures`` with its reason; the others
            are kept.

        Raises:
            ConnectorError: The cluster cannot be reached, or ``target_topic`` does not exist
                (and the broker does not create topics) or may not be written.
        """
        docs, orphans = decision_documents(report)
        tally = BulkTally(failures=orphans)
        if self._producer is None:
            self._producer = self._failures.connect(self._new_producer)
        producer = self._producer
        self._topic_ready(producer)
        pending: list[tuple[str, str, Any]] = []
        for doc_id, incident_id, doc in docs:
            value = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            try:
                future = producer.send(self.target_topic, key=doc_id.encode(), value=value.encode())
            except self._errors.KafkaError as exc:
                tally.failures.append(delivery_failure(doc_id, incident_id, exc))
                continue
            pending.append((doc_id, incident_id, future))
        for doc_id, incident_id, future in pending:
            try:
                future.get(timeout=self._delivery_ms / 1000 + self.request_timeout)
            except self._errors.KafkaError as exc:
                tally.failures.append(delivery_failure(doc_id, incident_id, exc))
            else:
                tally.created += 1
        return tally.result(self.name, self.target_topic, len(report.decisions))

    def _new_producer(self) -> Any:
        # Idempotence is off on purpose: with it, kafka-python fails every later message once
        # the broker refuses one (e.g. too large). Retries cannot duplicate anything that
        # matters here: the key and value of a decision are the same on every attempt.
        return self._kafka.KafkaProducer(
            **self._settings,
            acks="all",
            enable_idempotence=False,
            retries=self.retries,
            linger_ms=_LINGER_MS,
            delivery_timeout_ms=self._delivery_ms + _LINGER_MS,
            max_block_ms=ms(self.connect_timeout),
        )

    def _topic_ready(self, producer: Any) -> None:
        try:
            producer.partitions_for(self.target_topic)
        except self._errors.KafkaTimeoutError as exc:
            raise self._failures.error(
                f"topic {self.target_topic!r} is not available on Kafka at {self.servers} "
                f"after {self.connect_timeout:g} s: create it (cleanup.policy=compact keeps one "
                "message per incident) or let the broker create topics"
            ) from exc
        except self._errors.KafkaError as exc:
            raise self._failures.translate(exc, "looking up", self.target_topic) from exc
