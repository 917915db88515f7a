"""The one place that turns an event's outcome into an HTTP answer.

The status drives Knative's delivery (see KNATIVE.md): any 2xx is done; 429 and every 5xx are
retried with backoff; other 4xx go straight to the dead-letter sink (or are dropped). So a
failure that redelivery can fix answers 429/503, one that it cannot answers 400/413/422 —
never 404, 408 or 409, which Knative would retry. When branches disagree, permanent wins.
The body, ``{"error", "message"}``, is for logs and humans; a KafkaSource discards it.

=================================  ======  =========================  ========================
outcome                            status  ``error``                  Knative
=================================  ======  =========================  ========================
succeeded, filtered, duplicate     200     —                          done
undecodable request (not a         400     ``malformed_event``,       dead letter at once
CloudEvent, batch, bad attribute)          ``unsupported_media``
body over ``max_body_bytes``       413     ``payload_too_large``      dead letter at once
a step failed permanently          422     ``step_failed``            dead letter at once
same event already in flight       429     ``duplicate_in_flight``    retried
sender disconnected mid-body       503     ``client_disconnected``    (nobody reads it)
too many events in this pod        429     ``overloaded``             retried
a bug in the runner                500     ``internal_error``         retried
steps failed transiently           503     ``step_unavailable``       retried
pipeline deadline passed           503     ``deadline_exceeded``      retried
draining after SIGTERM             503     ``shutting_down``          retried
=================================  ======  =========================  ========================
"""

from enum import StrEnum
from typing import NamedTuple

import msgspec

from pipeline_models import ErrorBody
from pipeline_runner.errors import (
    ClientDisconnected,
    DeadlineExceeded,
    DuplicateInFlight,
    EventRejected,
    EventTooLarge,
    Overloaded,
    PipelineFailed,
    RunnerError,
    ShuttingDown,
    UnsupportedEventFormat,
)

_ENCODER = msgspec.json.Encoder()


class Outcome(StrEnum):
    """How an event that answers 200 ended."""

    SUCCEEDED = "succeeded"
    FILTERED = "filtered"
    """A filter stopped part of the pipeline; the rest succeeded."""
    DUPLICATE = "duplicate"
    """Already processed within the deduplication window; not run again."""


class SuccessBody(msgspec.Struct, frozen=True, kw_only=True):
    """The body of a 200."""

    outcome: Outcome
    """What happened."""
    id: str
    """The event's id."""


class Answer(NamedTuple):
    """An HTTP answer to an event: its status, the label metrics count it by, a JSON body."""

    status: int
    label: str
    """The outcome (``succeeded``…) or the error code (``step_failed``…)."""
    body: bytes


def success(outcome: Outcome, *, event_id: str) -> Answer:
    """The 200 answer: :class:`SuccessBody`'s JSON, from a prefix encoded once per outcome
    (every event answers, so this skips building and encoding a struct each time)."""
    label, prefix = _SUCCESS_PREFIXES[outcome]
    return Answer(200, label, prefix + _ENCODER.encode(event_id) + b"}")


def _success_prefix(outcome: Outcome) -> bytes:
    # The encoding of a SuccessBody up to its id's value, which is last: `{"outcome":…,"id":`.
    marker = "\x00"
    body = _ENCODER.encode(SuccessBody(outcome=outcome, id=marker))
    prefix, found, rest = body.partition(_ENCODER.encode(marker))
    if not found or rest != b"}":
        raise AssertionError(f"SuccessBody encodes its id last: {body!r}")
    return prefix


_SUCCESS_PREFIXES = {outcome: (outcome.value, _success_prefix(outcome)) for outcome in Outcome}


def failure(error: RunnerError) -> Answer:
    """The answer to a failed event (see the module's table)."""
    status, code = classify(error)
    return Answer(status, code, _ENCODER.encode(ErrorBody(error=code, message=str(error))))


def internal_error() -> Answer:
    """The answer when the runner itself broke: retryable, nothing about the bug disclosed."""
    body = ErrorBody(error="internal_error", message="the runner failed; see its logs")
    return Answer(500, "internal_error", _ENCODER.encode(body))


_BY_CLASS: tuple[tuple[type[RunnerError], int, str], ...] = (
    # Most specific first: EventTooLarge and UnsupportedEventFormat are EventRejected.
    (EventTooLarge, 413, "payload_too_large"),
    (UnsupportedEventFormat, 400, "unsupported_media"),
    (EventRejected, 400, "malformed_event"),
    (Overloaded, 429, "overloaded"),
    (ShuttingDown, 503, "shutting_down"),
    (DuplicateInFlight, 429, "duplicate_in_flight"),
    (DeadlineExceeded, 503, "deadline_exceeded"),
    (ClientDisconnected, 503, "client_disconnected"),
)


def classify(error: RunnerError) -> tuple[int, str]:
    """The status and error code for ``error``."""
    if isinstance(error, PipelineFailed):
        return (503, "step_unavailable") if error.retryable else (422, "step_failed")
    for kind, status, code in _BY_CLASS:
        if isinstance(error, kind):
            return status, code
    # Any other RunnerError reaching the edge was meant to be handled inside: answer by marker.
    return (503, "unavailable") if error.retryable else (422, "unprocessable")
