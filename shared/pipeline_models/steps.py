"""The step types a pipeline is made of: a tagged union on ``type``.

Every step has an ``id``, the steps it ``needs`` (besides those its expressions reference, which
are inferred), a per-attempt ``timeout_seconds`` and a ``retry`` policy. Strings documented as
*templates* may contain ``${{ JMESPath }}`` segments evaluated against
``{"event": <the CloudEvent>, "steps": {<id>: <output>}}`` (see :mod:`pipeline_models.expressions`).

What a step publishes as ``steps.<id>`` for later steps (the runner's side of the contract):

* ``transform``: its rendered ``output``.
* ``filter``: ``{"passed": bool}``; when false every step depending on it is skipped and the
  event still succeeds.
* ``http``: ``{"status": int, "headers": {lower-case name: value}, "body": JSON or text}``.
* ``kafka``: ``{"topic": str, "partition": int, "offset": int}``.
* ``log``: ``{"message": str}``.

Structs skip unknown fields (schema evolution between our services); request bodies are checked
for unknown fields by :mod:`pipeline_models.unknown_fields` instead.
"""

from enum import StrEnum
from typing import Annotated, Any, Final, Literal

import msgspec

from pipeline_models.ids import StepId
from pipeline_models.retry import RetryPolicy
from pipeline_models.topics import MAX_TOPIC_LENGTH

MAX_STEP_ID_LENGTH = 63
StepIdField = Annotated[
    StepId,
    msgspec.Meta(
        min_length=1,
        max_length=MAX_STEP_ID_LENGTH,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="1..63 characters of [A-Za-z0-9_-]",
    ),
]
"""A step id as it appears in a spec (``id`` and each entry of ``needs``)."""

StepTimeout = Annotated[float, msgspec.Meta(gt=0, le=600)]
"""Seconds one attempt may take; Knative's request timeout caps everything at 600 s anyway."""

StatusCode = Annotated[int, msgspec.Meta(ge=100, le=599)]
"""An HTTP status code."""


class HttpMethod(StrEnum):
    """The HTTP methods an ``http`` step may use."""

    GET = "GET"
    POST = "POST"
    PUT = "PUT"
    PATCH = "PATCH"
    DELETE = "DELETE"
    HEAD = "HEAD"


class LogLevel(StrEnum):
    """Levels of a ``log`` step, as Python's logging names them."""

    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class StatusRange(msgspec.Struct, frozen=True, kw_only=True):
    """An inclusive range of HTTP statuses, ``{"min": 200, "max": 299}``."""

    min: StatusCode
    """Lowest status in the range."""
    max: StatusCode
    """Highest status in the range (not below ``min``)."""


DEFAULT_ACCEPT_STATUS: Final = (StatusRange(min=200, max=299),)


class StepBase(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Fields every step has; never used on its own."""

    id: StepIdField
    """Unique within the pipeline; other steps reference the output as ``steps.<id>``."""
    needs: tuple[StepIdField, ...] = ()
    """Steps that must succeed first, besides those referenced in this step's expressions."""
    timeout_seconds: StepTimeout | None = None
    """Per attempt; None leaves the attempt bounded only by the pipeline deadline."""
    retry: RetryPolicy = msgspec.field(default_factory=RetryPolicy)
    """Retries after transient failures; the default is a single attempt."""


class TransformStep(StepBase, frozen=True, kw_only=True, tag="transform"):
    """Build a JSON value from the event and earlier outputs."""

    output: Any
    """Any JSON; every string in it is a template (object keys are literal)."""


class FilterStep(StepBase, frozen=True, kw_only=True, tag="filter"):
    """Stop the dependents of this step unless a condition holds."""

    condition: str
    """A template that is exactly one ``${{ expr }}``; JMESPath truthiness decides."""


class HttpStep(StepBase, frozen=True, kw_only=True, tag="http"):
    """Call an HTTP endpoint (subject to the runner's egress policy)."""

    method: HttpMethod = HttpMethod.GET
    """The request method."""
    url: str
    """Template rendering an absolute ``http``/``https`` URL."""
    headers: dict[str, str] = {}
    """Request headers; names literal, values templates."""
    body: Any = None
    """JSON body, every string a template; null sends no body."""
    accept_status: tuple[StatusCode | StatusRange, ...] = DEFAULT_ACCEPT_STATUS
    """Statuses that count as success: exact codes and ranges; default 200-299."""
    permanent_on_4xx: bool = True
    """Treat a non-accepted 4xx (except 408 and 429) as permanent: no retry, the event fails
    permanently; 5xx, 408, 429 and connection errors are transient either way."""


class KafkaStep(StepBase, frozen=True, kw_only=True, tag="kafka"):
    """Produce one record to a Kafka topic (the runner's Kafka settings say which cluster)."""

    topic: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TOPIC_LENGTH)]
    """Literal topic name (not a template), checked against Kafka's naming rules."""
    value: Any
    """JSON value of the record, every string a template."""
    key: str | None = None
    """Template for the record key; None produces a record without key."""
    headers: dict[str, str] = {}
    """Record headers; names literal, values templates."""
    format: Literal["json", "cloudevent"] = "json"
    """``json``: the value as JSON; ``cloudevent``: a structured-mode CloudEvent wrapping it."""


class LogStep(StepBase, frozen=True, kw_only=True, tag="log"):
    """Write a line to the runner's log (handy while building a pipeline)."""

    message: str
    """Template of the line."""
    level: LogLevel = LogLevel.INFO
    """Log level of the line."""


Step = TransformStep | FilterStep | HttpStep | KafkaStep | LogStep
"""Any step; JSON objects pick their type with ``"type"``."""

STEP_TYPES: Final[dict[str, type[StepBase]]] = {
    "transform": TransformStep,
    "filter": FilterStep,
    "http": HttpStep,
    "kafka": KafkaStep,
    "log": LogStep,
}
"""Step classes by their ``type`` tag."""


def status_accepted(step: HttpStep, status: int) -> bool:
    """Tell whether ``status`` counts as success for ``step``."""
    for accepted in step.accept_status:
        if isinstance(accepted, int):
            if accepted == status:
                return True
        elif accepted.min <= status <= accepted.max:
            return True
    return False
