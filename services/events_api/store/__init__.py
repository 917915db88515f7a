"""The pipeline store: versioned pipelines per tenant and each pipeline's trigger intent.

The persistence layer of the Pipelines and Events APIs. Open it with :func:`open_store` (SQLite
by default, PostgreSQL when a database URL is set), program against :class:`PipelineStore`, and
catch :class:`StoreError` and its subclasses (see :mod:`events_api.store.errors`).

Modules, one job each: ``protocol`` the interface; ``records`` what it returns; ``errors`` the
error tree; ``cursors`` page cursors; ``specs`` spec JSON; ``timestamps`` UTC times;
``migrations`` and ``schema/`` the versioned schema; ``sqlite`` and ``sqlite_connections`` the
development backend; ``postgres`` and ``postgres_connections`` the production backend;
``rows`` what both backends share; ``options`` the tunables; ``factory`` the choice of backend.
"""

from events_api.store.errors import (
    InvalidCursor,
    PipelineNotFound,
    StoreError,
    StoreUnavailable,
    VersionConflict,
    VersionNotFound,
)
from events_api.store.factory import open_store
from events_api.store.options import StoreOptions
from events_api.store.protocol import PipelineStore
from events_api.store.records import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Page,
    PipelineRecord,
    StartedTrigger,
)

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "InvalidCursor",
    "Page",
    "PipelineNotFound",
    "PipelineRecord",
    "PipelineStore",
    "StartedTrigger",
    "StoreError",
    "StoreOptions",
    "StoreUnavailable",
    "VersionConflict",
    "VersionNotFound",
    "open_store",
]
