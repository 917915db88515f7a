"""What a pipeline version's consumer does, derived purely from its options and the settings.

The equivalent of the Knative backend's KafkaSource manifest: topic, consumer group (the very
name a KafkaSource would use, so offsets mean the same), ordering, initial offset, key type,
retry schedule, per-attempt timeout, the dead letter — the pipeline's own, else dev mode's
`<topic>.dlq` (`default_dead_letter_suffix`), so nothing is dropped silently — and how many events
the runner takes at once.
"""

from dataclasses import dataclass
from typing import Literal

from events_api.triggers.errors import NoEventOption
from events_api.triggers.local.dead_letters import DeadLetterDestination
from events_api.triggers.local.delivery import DeliveryPolicy
from events_api.triggers.local.encoding import SourceIdentity
from events_api.triggers.local.retrying import BackoffSchedule
from events_api.triggers.local.settings import LocalSettings
from pipeline_models import (
    PipelineVersion,
    consumer_group,
    delivery_timeout_seconds,
    service_name,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class DispatchConfig:
    """One pipeline's consumer and delivery; two versions with equal configs share a consumer."""

    topic: str
    group: str
    identity: SourceIdentity
    initial_offset: Literal["latest", "earliest"]
    concurrency: int
    """Records in flight per partition: 1 when ordered."""
    policy: DeliveryPolicy
    dead_letter: DeadLetterDestination | None
    runner_slots: int
    """Attempts in flight to the runner at once, all partitions together: the events the runner
    admits (`scaling.container_concurrency`, else the runner settings' `max_concurrency`). The
    rest wait for a slot, as Knative's queue-proxy holds them, instead of being answered 429
    and backing off."""


def dispatch_config_for(version: PipelineVersion, *, settings: LocalSettings) -> DispatchConfig:
    """The consumer and delivery of `version`.

    Raises:
        NoEventOption: the version has no `options.event` topic.
    """
    options = version.spec.options
    topic = options.event
    if topic is None:
        raise NoEventOption(
            f"pipeline {version.pipeline_id} version {version.version} has no options.event "
            "topic; add one with PUT /api/v1/pipelines/{id} and start again"
        )
    delivery = options.delivery
    schedule = BackoffSchedule(
        policy=delivery.backoff_policy,
        delay=delivery.backoff_delay_seconds,
        retry=delivery.retry,
        cap=settings.backoff_max_seconds,
        jitter=settings.backoff_jitter,
    )
    return DispatchConfig(
        topic=topic,
        group=consumer_group(settings.namespace, version.pipeline_id),
        identity=SourceIdentity(
            namespace=settings.namespace,
            name=service_name(version.pipeline_id),
            key_type=delivery.key_type,
        ),
        initial_offset=delivery.initial_offset,
        concurrency=1 if delivery.ordering == "ordered" else settings.unordered_in_flight,
        policy=DeliveryPolicy(
            schedule=schedule,
            attempt_timeout=delivery_timeout_seconds(options),
            connect_timeout=settings.connect_timeout_seconds,
        ),
        dead_letter=dead_letter_for(version, settings=settings),
        runner_slots=options.scaling.container_concurrency or settings.runner.max_concurrency,
    )


def dead_letter_for(
    version: PipelineVersion, *, settings: LocalSettings
) -> DeadLetterDestination | None:
    """The pipeline's dead letter, else `<topic><suffix>`; None when the suffix is empty."""
    configured = version.spec.options.delivery.dead_letter
    if configured is not None and (configured.topic or configured.uri):
        return DeadLetterDestination(topic=configured.topic, uri=configured.uri)
    topic = version.spec.options.event
    if topic is None or not settings.default_dead_letter_suffix:
        return None
    return DeadLetterDestination(topic=topic + settings.default_dead_letter_suffix)
