"""The pipeline store's error tree: what callers of the store catch, whatever the backend.

asyncpg and sqlite3 errors never leave the store: each backend translates them once, in its
``translate_*_error`` function, chained with ``from`` so the cause stays in the traceback::

    StoreError                  base of everything the store raises; ``permanent`` marker
    ├── PipelineNotFound        no such pipeline for this tenant (another tenant's looks the same)
    ├── VersionNotFound         the pipeline exists, that version does not
    ├── VersionConflict         an update's expected version is not the latest any more
    ├── InvalidCursor           a page cursor the store did not issue (or from another listing)
    └── StoreUnavailable        retryable: connection refused or lost, timeout, database busy

HTTP statuses are chosen by the API's exception handlers (e.g. 404, 412, 400, 503), not here.
"""

from typing import ClassVar

from pipeline_models import PipelineId, TenantId


class StoreError(Exception):
    """Base of every error the pipeline store raises (also stored data it cannot read)."""

    permanent: ClassVar[bool] = True
    """True when retrying the same call cannot succeed."""


class PipelineNotFound(StoreError):
    """The tenant has no pipeline with this id (it never existed, was deleted, or is not theirs)."""

    def __init__(self, tenant: TenantId, pipeline_id: PipelineId) -> None:
        self.tenant = tenant
        self.pipeline_id = pipeline_id
        super().__init__(f"pipeline {pipeline_id!r} not found")


class VersionNotFound(StoreError):
    """The pipeline exists but has no such version."""

    def __init__(self, pipeline_id: PipelineId, version: int, *, latest_version: int) -> None:
        self.pipeline_id = pipeline_id
        self.version = version
        self.latest_version = latest_version
        super().__init__(
            f"pipeline {pipeline_id!r} has no version {version}; "
            f"its versions are 1 to {latest_version}"
        )


class VersionConflict(StoreError):
    """An update expected another latest version: someone else updated the pipeline first."""

    def __init__(self, pipeline_id: PipelineId, *, expected: int, actual: int | None) -> None:
        self.pipeline_id = pipeline_id
        self.expected = expected
        self.actual = actual
        """The latest version when the update failed; None when a racing writer won unseen."""
        now = "a newer version" if actual is None else f"version {actual}"
        super().__init__(
            f"pipeline {pipeline_id!r} is at {now}, not at the expected version {expected}; "
            "read it again and retry the update"
        )


class InvalidCursor(StoreError):
    """A page cursor that the store did not issue for this kind of listing."""


class StoreUnavailable(StoreError):
    """The database cannot answer right now (refused, lost, timed out, busy); retry later."""

    permanent: ClassVar[bool] = False
