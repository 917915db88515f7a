"""What can go wrong when starting, stopping or reading a trigger, whatever the backend::

    TriggerError
    ├── NoEventOption         the version has no `options.event` topic (the documented 500)
    ├── TriggerNotFound       no trigger was requested for the pipeline
    ├── TriggerConflict       the objects are owned by something else, or changed under us
    │                         faster than we could converge (retryable)
    ├── BackendUnavailable    the cluster is unreachable or overloaded (retryable)
    ├── MissingApi            a required CRD (Knative Serving/Eventing/Kafka) is not installed
    ├── PermissionDenied      our ServiceAccount lacks a permission (names verb and resource)
    └── TriggerRejected       the cluster refused an object we built (names the reason)

HTTP statuses are chosen by the API's error handlers; messages say what to do.
"""

from typing import ClassVar


class TriggerError(Exception):
    """Base of the trigger backends' errors."""

    retryable: ClassVar[bool] = False


class NoEventOption(TriggerError):
    """The pipeline version has no `options.event`, so no source can subscribe to anything."""


class TriggerNotFound(TriggerError):
    """No trigger was requested for this pipeline (never started, or stopped)."""


class TriggerConflict(TriggerError):
    """Another writer or owner is in the way; retrying usually succeeds."""

    retryable = True


class BackendUnavailable(TriggerError):
    """The cluster could not be reached, timed out or is overloaded; retry shortly."""

    retryable = True


class MissingApi(TriggerError):
    """A custom resource the backend needs is not installed in the cluster."""

    def __init__(self, apis: list[str]) -> None:
        self.apis = apis
        super().__init__(
            "the cluster does not serve " + ", ".join(apis) + ": install Knative Serving, "
            "Knative Eventing and the Kafka source and sink (eventing-kafka-broker) first"
        )


class PermissionDenied(TriggerError):
    """The API's ServiceAccount may not do what starting or stopping a trigger needs."""


class TriggerRejected(TriggerError):
    """The cluster refused an object we built (a bug or a setting the cluster forbids)."""
