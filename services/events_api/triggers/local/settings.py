"""How the local (dev mode) backend runs triggers: the operator's choices, typed.

Read from `PIPELINE_EVENTS_LOCAL_*` variables (`pipeline-events dev` sets the Kafka address).
Nothing here comes from a tenant; a pipeline's own delivery options (retries, backoff, ordering,
initial offset, dead letter) are honoured exactly as the KafkaSource honours them.
"""

from collections.abc import Mapping
from typing import Annotated

import msgspec

from events_api.settings import load_struct
from pipeline_models import RunnerSettings

ENV_PREFIX = "PIPELINE_EVENTS_LOCAL_"


class LocalSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The local trigger backend's settings (`PIPELINE_EVENTS_LOCAL_<FIELD>`)."""

    # Kafka bootstrap servers the consumers read from (and, unless the runner settings name
    # another cluster, the runners' kafka steps and the dead-letter topics write to).
    kafka_bootstrap_servers: tuple[str, ...] = ("127.0.0.1:9092",)
    # Stands in for the Knative namespace: in consumer group names
    # (`pipeline-events.<namespace>.<pipeline>`) and in each event's `source`.
    namespace: str = "local"
    # Folder of the runners' log files and PID files (created when missing).
    data_dir: str = "pipeline-events-local"
    # Where records that exhaust their retries go when the pipeline names no dead letter:
    # `<topic><suffix>`, so nothing is ever dropped silently. "" drops them, as Knative does.
    default_dead_letter_suffix: str = ".dlq"
    # Records in flight per partition with `ordering: unordered` (Knative's dispatcher: 50).
    unordered_in_flight: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 50
    # Records fetched but not yet delivered per partition before its fetching is paused.
    max_buffered_per_partition: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 500
    # Cap of one backoff wait, in seconds (Knative has none; the default schedule never reaches
    # this cap: 0.3 s * 2**10 = 307 s). Bounds absurd configurations such as 100 retries.
    backoff_max_seconds: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 600.0
    # Each backoff wait is drawn uniformly in [(1 - jitter) * w, w] for the formula's w: never
    # longer than Knative's schedule, and retries of many records do not align.
    backoff_jitter: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.2
    # Seconds a new runner may take to answer /healthz before the rollout is declared failed.
    runner_start_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=600)] = 60.0
    # Longest wait before restarting a runner that keeps crashing (waits double from 1 s); a
    # runner that served this long starts the count over.
    runner_restart_backoff_max_seconds: Annotated[float, msgspec.Meta(ge=1, le=3600)] = 30.0
    # Seconds a runner may drain after SIGTERM before it is killed.
    runner_stop_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=600)] = 15.0
    # Seconds in-flight deliveries may finish when a trigger stops (the rest are cancelled and
    # redelivered on the next start: their offsets were not committed).
    drain_seconds: Annotated[float, msgspec.Meta(ge=0, le=600)] = 5.0
    # Timeout of one Kafka request (metadata, commit, produce of a dead letter).
    kafka_request_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=300)] = 10.0
    # Timeout to connect to a runner (each delivery attempt's total is the pipeline's
    # delivery timeout).
    connect_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=60)] = 2.0
    # The runner settings as JSON (`pipeline_models.RunnerSettings`); an empty Kafka cluster is
    # filled in with `kafka_bootstrap_servers`.
    runner: RunnerSettings = msgspec.field(default_factory=RunnerSettings)
    # Let http steps call services on 127.0.0.1 (on a developer's machine that is where they
    # listen); adds `allow_loopback` to the runner settings' egress policy.
    allow_loopback_egress: bool = True


def load_local_settings(environ: Mapping[str, str] | None = None) -> LocalSettings:
    """The backend's settings from `PIPELINE_EVENTS_LOCAL_*` variables.

    Raises:
        SettingsError: a variable is malformed.
    """
    return load_struct(LocalSettings, ENV_PREFIX, environ)


def runner_settings_for(settings: LocalSettings) -> RunnerSettings:
    """The runner settings a local runner is handed: Kafka filled in when the operator left it,
    loopback allowed unless turned off."""
    runner = settings.runner
    if not runner.kafka.bootstrap_servers:
        kafka = msgspec.structs.replace(
            runner.kafka, bootstrap_servers=settings.kafka_bootstrap_servers
        )
        runner = msgspec.structs.replace(runner, kafka=kafka)
    if settings.allow_loopback_egress and not runner.egress.allow_loopback:
        egress = msgspec.structs.replace(runner.egress, allow_loopback=True)
        runner = msgspec.structs.replace(runner, egress=egress)
    return runner
