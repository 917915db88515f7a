"""A pipeline's options: its trigger topic and how Knative runs and feeds its runner.

Defaults follow the platform (see KNATIVE.md) unless there is a reason to differ:

* ``scaling``: ``min_scale`` 0 (scale to zero, the point of serverless), ``max_scale`` 10 (a cap
  so one busy topic cannot take the cluster; 0 = unlimited), ``container_concurrency`` 10 (the
  runner is async and I/O-bound, but every in-flight event holds its body and step outputs in
  memory), ``target_concurrency`` unset (Knative derives it from ``container_concurrency``).
* ``delivery``: the KafkaSource controller's own defaults (10 retries, exponential, 0.3 s) written
  out *explicitly*, because a ``delivery`` block that sets no ``retry`` means no retries at all;
  ``timeout_seconds`` unset means "the request timeout" (the source's own 600 s default would
  outlive Knative's 300 s request timeout); ``ordering`` ordered, ``initial_offset`` latest and
  ``key_type`` string are KafkaSource's defaults.
* ``timeouts.request_timeout_seconds`` 300: Knative's default ``timeoutSeconds`` (max 600).
  The runner stops a pipeline at :func:`pipeline_deadline_seconds`, a margin earlier, so it can
  still answer (5xx → Knative retries) before the queue-proxy cuts the request.

Consistency between fields is checked by :mod:`pipeline_models.option_checks`.
"""

from typing import Annotated, Literal

import msgspec

MAX_REQUEST_TIMEOUT_SECONDS = 600
DEFAULT_REQUEST_TIMEOUT_SECONDS = 300


class ScalingOptions(msgspec.Struct, frozen=True, kw_only=True):
    """Knative autoscaling of the runner (revision template annotations and spec)."""

    min_scale: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 0
    """``autoscaling.knative.dev/min-scale``; 0 scales to zero when idle."""
    max_scale: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 10
    """``autoscaling.knative.dev/max-scale``; 0 means unlimited."""
    target_concurrency: Annotated[int, msgspec.Meta(ge=1, le=1000)] | None = None
    """``autoscaling.knative.dev/target`` (soft, per pod); None lets Knative derive it."""
    container_concurrency: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 10
    """Hard limit of in-flight requests per pod (``containerConcurrency``); 0 = unlimited."""


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    """Where Knative sends an event whose retries are exhausted: exactly one of the two."""

    topic: Annotated[str, msgspec.Meta(min_length=1, max_length=249)] | None = None
    """A Kafka topic (the events API points a KafkaSink at it)."""
    uri: Annotated[str, msgspec.Meta(min_length=1, max_length=2048)] | None = None
    """An absolute ``http``/``https`` URI."""


class DeliveryOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How the KafkaSource delivers records to the runner (its ``spec.delivery`` and more)."""

    retry: Annotated[int, msgspec.Meta(ge=0, le=100)] = 10
    """Retries after the first attempt; always written out (see module docstring)."""
    backoff_policy: Literal["linear", "exponential"] = "exponential"
    """Wait before retry n: linear ``delay*n``, exponential ``delay*2**n``."""
    backoff_delay_seconds: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 0.3
    """The ``delay`` of the backoff formula."""
    timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=MAX_REQUEST_TIMEOUT_SECONDS)] | None = (
        None
    )
    """Per delivery attempt; None means ``timeouts.request_timeout_seconds``; never above it."""
    ordering: Literal["ordered", "unordered"] = "ordered"
    """``ordered``: a partition's next record waits for the previous one (and its retries)."""
    initial_offset: Literal["latest", "earliest"] = "latest"
    """Where a consumer group without committed offsets starts."""
    key_type: Literal["string", "int", "float", "byte-array"] = "string"
    """How record keys are deserialized (the source's ``key-type`` label)."""
    dead_letter: DeadLetter | None = None
    """Where events go when retries are exhausted; None drops them (offsets are committed)."""


class TimeoutOptions(msgspec.Struct, frozen=True, kw_only=True):
    """Time limits of one event's processing."""

    request_timeout_seconds: Annotated[int, msgspec.Meta(ge=1, le=MAX_REQUEST_TIMEOUT_SECONDS)] = (
        DEFAULT_REQUEST_TIMEOUT_SECONDS
    )
    """The Knative revision's ``timeoutSeconds``."""


class ResourceRequests(msgspec.Struct, frozen=True, kw_only=True):
    """Container resource requests a tenant asks for; the API's settings bound them."""

    cpu: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    """A Kubernetes quantity such as ``250m``; None takes the API's default."""
    memory: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    """A Kubernetes quantity such as ``256Mi``; None takes the API's default."""


class PipelineOptions(msgspec.Struct, frozen=True, kw_only=True):
    """Everything about a pipeline besides its steps."""

    event: Annotated[str, msgspec.Meta(min_length=1, max_length=249)] | None = None
    """The Kafka topic that triggers the pipeline. Optional: a pipeline without it is valid, but
    starting its trigger fails (documented as ``500 pipeline_has_no_event_option``)."""
    scaling: ScalingOptions = msgspec.field(default_factory=ScalingOptions)
    """Autoscaling of the runner."""
    delivery: DeliveryOptions = msgspec.field(default_factory=DeliveryOptions)
    """Delivery from the KafkaSource to the runner."""
    timeouts: TimeoutOptions = msgspec.field(default_factory=TimeoutOptions)
    """Time limits."""
    resources: ResourceRequests = msgspec.field(default_factory=ResourceRequests)
    """Resource requests for the runner container."""


def pipeline_deadline_seconds(timeouts: TimeoutOptions) -> float:
    """The runner's deadline for one event: the request timeout minus a margin.

    The margin is 10 % of the request timeout, at least 0.5 s and at most 10 s (300 s → 290 s,
    10 s → 9 s, 1 s → 0.5 s), so the runner can still answer before Knative cuts the request.
    """
    timeout = float(timeouts.request_timeout_seconds)
    margin = min(max(timeout * 0.1, 0.5), 10.0)
    return timeout - margin


def delivery_timeout_seconds(options: PipelineOptions) -> float:
    """The KafkaSource's per-attempt delivery timeout (defaults to the request timeout)."""
    if options.delivery.timeout_seconds is not None:
        return options.delivery.timeout_seconds
    return float(options.timeouts.request_timeout_seconds)


def delivery_backoff_total_seconds(delivery: DeliveryOptions) -> float:
    """Total backoff of a record that fails every attempt (``~614 s`` with the defaults)."""
    delay = delivery.backoff_delay_seconds
    if delivery.backoff_policy == "linear":
        return delay * delivery.retry * (delivery.retry + 1) / 2
    # Sum of delay*2**n for n = 1..retry.
    return delay * (2.0 ** (delivery.retry + 1) - 2.0)
