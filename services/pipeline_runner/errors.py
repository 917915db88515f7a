"""The runner's error tree: every failure it can answer for, with a retryable/permanent marker.

Third-party errors (httpx, aiokafka, socket resolution) are translated into this tree once, at
the adapter that calls the library, chained with ``from``. HTTP statuses are chosen in exactly
one place, :mod:`pipeline_runner.answers`, from the class and the marker here::

    RunnerError                         base; ``retryable`` says whether a redelivery may succeed
    ├── EventRejected                   the request is no CloudEvent the runner can read (permanent)
    │   ├── EventTooLarge               the body exceeds ``max_body_bytes`` (permanent)
    │   └── UnsupportedEventFormat      batched or non-JSON structured mode (permanent)
    ├── ClientDisconnected              the sender went away before the whole body arrived
    │                                   (retryable: the sender will deliver it again)
    ├── StepError                       one step attempt failed; ``step_id`` once known
    │   ├── StepInputInvalid            a rendered value is unusable (URL, expression) (permanent)
    │   ├── EgressDenied                the egress policy refuses the destination (permanent)
    │   ├── UpstreamRejected            the endpoint answered a status meaning "never" (permanent)
    │   ├── UpstreamUnavailable         connection error, 5xx, 408, 429, DNS failure (retryable)
    │   ├── StepTimedOut                an attempt exceeded ``timeout_seconds`` (retryable)
    │   ├── KafkaUnavailable            broker unreachable, produce timed out (retryable)
    │   └── KafkaRejected               the broker refuses the record for good (permanent)
    ├── PipelineFailed                  the event failed because steps failed; retryable unless
    │                                   one of them failed permanently
    ├── DeadlineExceeded                the pipeline deadline passed (retryable)
    ├── Overloaded                      too many events in flight in this pod (retryable)
    ├── ShuttingDown                    the pod drains after SIGTERM (retryable)
    └── DuplicateInFlight               the same event is being processed right now (retryable)
"""

from pipeline_models import StepId


class RunnerError(Exception):
    """Base of every error the runner raises on purpose."""

    retryable: bool = False
    """True when delivering the same event again may succeed."""

    @property
    def permanent(self) -> bool:
        """The opposite of :attr:`retryable`, for readers who think in those terms."""
        return not self.retryable


class EventRejected(RunnerError):
    """The request is not a CloudEvent this runner can read; redelivery cannot help."""


class EventTooLarge(EventRejected):
    """The event body exceeds the runner's ``max_body_bytes``."""


class UnsupportedEventFormat(EventRejected):
    """A content mode or event format the runner does not read (batches, non-JSON formats)."""


class ClientDisconnected(RunnerError):
    """The connection closed before the whole event arrived; nobody reads the answer."""

    retryable = True


class StepError(RunnerError):
    """One attempt of one step failed."""

    def __init__(self, message: str, *, step_id: StepId | None = None) -> None:
        super().__init__(message)
        self.step_id = step_id
        """The failing step; set by the engine when the executor did not know it."""


class StepInputInvalid(StepError):
    """A rendered value cannot be used (an invalid URL, a failing expression)."""


class EgressDenied(StepError):
    """The runner's egress policy refuses the destination of an http step."""


class UpstreamRejected(StepError):
    """An http step's endpoint answered a status that retrying will not change."""


class UpstreamUnavailable(StepError):
    """An http step could not get an accepted answer for now (network, 5xx, 408, 429)."""

    retryable = True


class StepTimedOut(StepError):
    """An attempt of a step took longer than its ``timeout_seconds``."""

    retryable = True


class KafkaUnavailable(StepError):
    """A kafka step could not reach the cluster or have the record acknowledged in time."""

    retryable = True


class KafkaRejected(StepError):
    """The Kafka cluster refuses the record in a way retrying will not fix (or none is set)."""


class PipelineFailed(RunnerError):
    """One or more steps failed; the event failed."""

    def __init__(self, failures: tuple[StepError, ...]) -> None:
        self.failures = failures
        """Every step failure, in the order they happened."""
        listed = "; ".join(f"step {error.step_id!r}: {error}" for error in failures)
        super().__init__(f"{len(failures)} step(s) failed: {listed}")
        # Retryable only when every failure is: a permanent one would fail again.
        self.retryable = all(error.retryable for error in failures)


class DeadlineExceeded(RunnerError):
    """The event did not finish within the pipeline deadline."""

    retryable = True


class Overloaded(RunnerError):
    """This pod already processes as many events as it accepts at once."""

    retryable = True


class ShuttingDown(RunnerError):
    """The pod received SIGTERM and takes no new events."""

    retryable = True


class DuplicateInFlight(RunnerError):
    """Another delivery of the same event (same ``source`` and ``id``) is being processed."""

    retryable = True
