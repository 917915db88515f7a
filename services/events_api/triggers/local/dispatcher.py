"""One pipeline's consumer: Kafka records in, CloudEvents POSTed to the runner, offsets committed.

The local stand-in for a KafkaSource's data plane:

* an aiokafka consumer in the pipeline's consumer group (`enable_auto_commit=False`,
  `auto_offset_reset` = the options' `initial_offset`) feeds one :class:`PartitionLane` per
  partition; a partition whose lane holds too many records is paused (the poll loop never
  blocks, so the consumer keeps its group membership however long a record retries);
* each record becomes the event a KafkaSource sends (:mod:`.encoding`), is delivered with the
  pipeline's retries (:mod:`.delivery`) and, when they are exhausted, dead-lettered
  (:mod:`.dead_letters`); attempts from all lanes share the runner's slots (as many as it admits
  at once), as Knative's queue-proxy holds requests beyond `containerConcurrency`;
* a commit task commits, per partition, one past the finished prefix: only records that got a
  2xx or whose dead letter was written (at-least-once). Commits are coalesced: each progress
  wakes the committer, which commits whatever advanced meanwhile;
* on a revocation (another consumer joined the group) the revoked lanes stop and commit first;
* on an assignment, each new partition's starting offset (its committed one, else where
  `initial_offset` points now) is looked up and committed before it is fetched from, and only
  then is the source ready — as a KafkaSource is only Ready once `InitialOffsetsCommitted`. Else
  `latest` would be resolved later: a record produced right after `source_ready`, or while the
  API is down before the first commit, would be skipped.

Tasks: the poll loop and the committer are owned here, named, and stopped by :meth:`stop`.
"""

import asyncio
import contextvars
import logging
import random
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

from events_api.triggers.local.dead_letters import DeadLetterWriter
from events_api.triggers.local.delivery import Target, deliver
from events_api.triggers.local.dispatch_config import DispatchConfig
from events_api.triggers.local.encoding import encode_record
from events_api.triggers.local.kafka_clients import KAFKA_ERRORS, unavailable
from events_api.triggers.local.lanes import PartitionLane
from events_api.triggers.local.records import KafkaRecord, record_from_consumer
from events_api.triggers.local.settings import LocalSettings

logger = logging.getLogger(__name__)

POLL_TIMEOUT_MS = 500
"""How long one poll waits for records (also how often paused partitions are reconsidered)."""
COMMIT_RETRY_SECONDS = 1.0
METADATA_MAX_AGE_MS = 5000


class Dispatcher:
    """Consume one pipeline's topic and deliver each record to the runner that serves it."""

    def __init__(
        self,
        config: DispatchConfig,
        *,
        settings: LocalSettings,
        target: Target,
        client: httpx.AsyncClient,
        dead_letters: DeadLetterWriter,
    ) -> None:
        self.config = config
        self._settings = settings
        self._target = target
        self._client = client
        self._dead_letters = dead_letters
        self._lanes: dict[TopicPartition, PartitionLane] = {}
        self._paused: set[TopicPartition] = set()
        self._runner_slots = asyncio.Semaphore(config.runner_slots)
        self._positioned: set[TopicPartition] = set()
        """Assigned partitions whose starting offset is fixed and committed."""
        self._progress = asyncio.Event()
        self._commit_lock = asyncio.Lock()
        self._consumer: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self.failure: str | None = None
        """Why consuming stopped unexpectedly (a Kafka error, a bug); None while it runs."""

    @property
    def joined(self) -> bool:
        """Whether the consumer holds partitions and has fixed where each starts
        (`source_ready`): no record produced from now on can be skipped."""
        consumer = self._consumer
        if consumer is None or self.failure is not None:
            return False
        assignment = consumer.assignment()
        return bool(assignment) and assignment <= self._positioned

    async def start(self) -> None:
        """Connect and subscribe; consuming continues in the background.

        Raises:
            BackendUnavailable: Kafka cannot be reached.
        """
        config, settings = self.config, self._settings
        timeout_ms = int(settings.kafka_request_timeout_seconds * 1000)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=list(settings.kafka_bootstrap_servers),
            group_id=config.group,
            client_id=f"pipeline-events-local-{config.identity.name}",
            enable_auto_commit=False,
            auto_offset_reset=config.initial_offset,
            request_timeout_ms=max(timeout_ms, 40_000),
            max_poll_records=settings.max_buffered_per_partition,
            # A topic created after the start is found within seconds, not aiokafka's 5 min.
            metadata_max_age_ms=METADATA_MAX_AGE_MS,
        )
        try:
            async with asyncio.timeout(settings.kafka_request_timeout_seconds):
                await consumer.start()
            consumer.subscribe([config.topic], listener=_Rebalances(self))
        except KAFKA_ERRORS as error:
            await consumer.stop()
            raise unavailable(error, settings.kafka_bootstrap_servers) from error
        self._consumer = consumer
        name = config.identity.name
        # A fresh context: these outlive the start request (its request id stays off their logs).
        self._tasks = [
            asyncio.create_task(
                self._poll(), name=f"local-consumer-{name}", context=contextvars.Context()
            ),
            asyncio.create_task(
                self._commit_forever(),
                name=f"local-committer-{name}",
                context=contextvars.Context(),
            ),
        ]
        for task in self._tasks:
            task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            self.failure = f"{type(error).__name__}: {error}"
            logger.error("%s stopped", task.get_name(), exc_info=error)

    async def _poll(self) -> None:
        consumer = self._consumer
        while True:
            batches = await consumer.getmany(timeout_ms=POLL_TIMEOUT_MS)
            for partition, records in batches.items():
                lane = self._lane(partition)
                for record in records:
                    lane.put(record_from_consumer(record))
            self._apply_backpressure()
            for lane in self._lanes.values():
                if lane.failure is not None:
                    raise RuntimeError(f"lane {lane.name} failed") from lane.failure

    def _lane(self, partition: TopicPartition) -> PartitionLane:
        lane = self._lanes.get(partition)
        if lane is None:
            lane = PartitionLane(
                f"{self.config.identity.name}-{partition.topic}-{partition.partition}",
                concurrency=self.config.concurrency,
                handle=self._handle,
                on_progress=self._progress.set,
            )
            lane.start()
            self._lanes[partition] = lane
        return lane

    def _apply_backpressure(self) -> None:
        limit = self._settings.max_buffered_per_partition
        for partition, lane in self._lanes.items():
            if lane.backlog >= limit and partition not in self._paused:
                self._consumer.pause(partition)
                self._paused.add(partition)
            elif lane.backlog < limit // 2 + 1 and partition in self._paused:
                self._consumer.resume(partition)
                self._paused.discard(partition)

    async def _handle(self, record: KafkaRecord) -> None:
        """Deliver one record; dead-letter it when that fails for good."""
        config = self.config
        event = encode_record(record, config.identity)
        outcome = await deliver(
            self._client,
            event,
            target=self._target,
            policy=config.policy,
            random=random.random,
            slots=self._runner_slots,
        )
        if outcome.delivered:
            return
        if config.dead_letter is None:
            logger.warning(
                "record %s/%d@%d failed after %d attempts (%s) and is dropped: no dead letter",
                record.topic,
                record.partition,
                record.offset,
                outcome.attempts,
                outcome.status if outcome.status is not None else outcome.error,
            )
            return
        await self._dead_letters.write(config.dead_letter, record, event, outcome)

    async def _commit_forever(self) -> None:
        while True:
            await self._progress.wait()
            self._progress.clear()
            if not await self.commit():
                await asyncio.sleep(COMMIT_RETRY_SECONDS)
                self._progress.set()

    async def commit(self, lanes: dict[TopicPartition, PartitionLane] | None = None) -> bool:
        """Commit each lane's finished prefix that advanced; False when the commit failed."""
        async with self._commit_lock:
            chosen = self._lanes if lanes is None else lanes
            offsets = {
                partition: lane.tracker.committable
                for partition, lane in chosen.items()
                if lane.tracker.committable is not None
                and lane.tracker.committable != lane.committed
            }
            if not offsets:
                return True
            try:
                async with asyncio.timeout(self._settings.kafka_request_timeout_seconds):
                    await self._consumer.commit(offsets)
            except KAFKA_ERRORS as error:
                # The records stay uncommitted and would be delivered again: at-least-once.
                logger.warning("commit of %s failed: %s", self.config.group, error)
                return False
            for partition, offset in offsets.items():
                chosen[partition].committed = offset
            return True

    async def assign(self, partitions: set[TopicPartition]) -> None:
        """Fix and commit where newly assigned partitions start, fetching none of them meanwhile.

        They are paused before the first await (aiokafka calls this before it can fetch them),
        so the offset committed is the first record delivered. A failure is logged; those
        partitions are consumed anyway, but the source does not report ready.
        """
        consumer = self._consumer
        new = set(partitions) - self._positioned
        if consumer is None or not new:
            return
        consumer.pause(*new)
        try:
            async with asyncio.timeout(self._settings.kafka_request_timeout_seconds):
                positions = {tp: await consumer.position(tp) for tp in new}
                await consumer.commit(positions)
        except KAFKA_ERRORS as error:
            logger.warning(
                "cannot commit the starting offsets of %s (%s): the source is not ready",
                self.config.group,
                error,
            )
            return
        finally:
            held = new & set(consumer.assignment())
            consumer.resume(*(held - self._paused))
        self._positioned |= positions.keys()

    async def revoke(self, partitions: set[TopicPartition]) -> None:
        """Stop the lanes of partitions this consumer loses; commit what they finished."""
        self._positioned -= partitions
        revoked = {tp: lane for tp, lane in self._lanes.items() if tp in partitions}
        await asyncio.gather(
            *(lane.stop(drain_seconds=self._settings.drain_seconds) for lane in revoked.values())
        )
        await self.commit(revoked)
        for partition in revoked:
            del self._lanes[partition]
            self._paused.discard(partition)

    async def stop(self) -> None:
        """Stop fetching, drain in-flight deliveries (bounded), commit, leave the group."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._consumer is None:
            return
        lanes = list(self._lanes.values())
        await asyncio.gather(
            *(lane.stop(drain_seconds=self._settings.drain_seconds) for lane in lanes)
        )
        await self.commit()
        consumer, self._consumer = self._consumer, None
        self._lanes.clear()
        try:
            async with asyncio.timeout(self._settings.kafka_request_timeout_seconds):
                await consumer.stop()
        except (KafkaError, TimeoutError) as error:
            logger.warning("the consumer of %s did not stop cleanly: %s", self.config.group, error)


class _Rebalances(ConsumerRebalanceListener):  # type: ignore[misc]
    """Hands revocations and assignments to the dispatcher (lanes start lazily)."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self._dispatcher = dispatcher

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._dispatcher.revoke(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._dispatcher.assign(set(assigned))
