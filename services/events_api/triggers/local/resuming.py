"""The resumption hook: backends whose triggers live in the API process implement it.

A Knative trigger outlives the API (the cluster runs it); a local one is a child of the API
process, so an API restart must start again every trigger whose stored intent is "started".
The application's lifespan calls `resume` once the store is open, before it reports ready.
"""

from typing import Protocol, runtime_checkable

from events_api.store.protocol import PipelineStore


@runtime_checkable
class Resumable(Protocol):
    """A trigger backend that must resume the stored "started" triggers at start-up."""

    async def resume(self, store: PipelineStore) -> object:
        """Start every trigger whose stored intent is "started"; report what happened."""
        ...
