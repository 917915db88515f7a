"""Why a pipeline version cannot be turned into Knative manifests (the builders' errors).

All are permanent: building again from the same version and settings fails the same way::

    TriggerError                            (events_api.triggers.errors)
    ├── NoEventOption                       no `options.event`: the documented 500
    └── ManifestError                       base of the errors raised while building
        ├── ResourceRequestTooLarge         a resource request above the settings' bound (422)
        ├── InvalidResourceRequest          a resource request that is not a quantity (422)
        ├── InconsistentTimeouts            delivery timeout or runner deadline not below
        │                                   the request timeout
        └── SettingsConflict                the operator's settings cannot build a valid object

`ResourceRequestTooLarge` and `InvalidResourceRequest` are also `ValueError`s: the tenant's
options asked for something this installation does not allow. The other two are the operator's
to fix. HTTP statuses are chosen by the API's error handlers.
"""

from events_api.triggers.errors import NoEventOption, TriggerError

__all__ = [
    "InconsistentTimeouts",
    "InvalidResourceRequest",
    "ManifestError",
    "NoEventOption",
    "ResourceRequestTooLarge",
    "SettingsConflict",
]


class ManifestError(TriggerError):
    """A manifest cannot be built from this pipeline version and these settings."""


class ResourceRequestTooLarge(ManifestError, ValueError):
    """A pipeline asks for more CPU or memory than the settings allow one runner container."""

    def __init__(self, resource: str, *, requested: str, bound: str) -> None:
        self.resource = resource
        """`cpu` or `memory`."""
        self.requested = requested
        """The pipeline's request, as written."""
        self.bound = bound
        """The largest request allowed (`max_cpu_request` / `max_memory_request`)."""
        super().__init__(
            f"options.resources.{resource} asks for {requested}, but this installation allows at "
            f"most {bound} per runner (max_{resource}_request); ask for {bound} or less"
        )


class InvalidResourceRequest(ManifestError, ValueError):
    """A resource request (or a resource setting) is not a Kubernetes quantity."""


class InconsistentTimeouts(ManifestError):
    """The delivery timeout or the runner's deadline is not below the revision's timeout."""


class SettingsConflict(ManifestError):
    """The operator's settings contradict each other for this object (the message says which)."""
