"""The store's tunables: timeouts and pool sizes, one frozen Struct passed in at open.

Every database call is bounded: ``operation_timeout_seconds`` covers one store method from
taking a connection to its last statement; opening (connecting, migrating) has its own bounds.
"""

import msgspec


class StoreOptions(msgspec.Struct, frozen=True, kw_only=True):
    """Timeouts and pool sizes of a pipeline store (both backends unless the name says)."""

    operation_timeout_seconds: float = 5.0
    """Bound on one store call, waiting for a free connection included."""
    connect_timeout_seconds: float = 10.0
    """Bound on opening one database connection."""
    migration_timeout_seconds: float = 60.0
    """Bound on applying the schema migrations at open (waiting for another replica included)."""
    postgres_min_connections: int = 1
    """Connections the PostgreSQL pool keeps open."""
    postgres_max_connections: int = 10
    """Most connections the PostgreSQL pool opens (per replica)."""
    sqlite_connections: int = 4
    """SQLite connections (each with its own thread); writes take turns, reads run in parallel."""
    sqlite_busy_timeout_seconds: float = 2.0
    """How long SQLite waits for another process's write lock before giving up."""

    def __post_init__(self) -> None:
        for name in ("operation_timeout_seconds", "connect_timeout_seconds"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.migration_timeout_seconds <= 0:
            raise ValueError("migration_timeout_seconds must be positive")
        if not 1 <= self.postgres_min_connections <= self.postgres_max_connections:
            raise ValueError(
                "postgres_min_connections must be at least 1 and at most postgres_max_connections"
            )
        if self.sqlite_connections < 1:
            raise ValueError("sqlite_connections must be at least 1")
        # A busy wait longer than the call's bound would surface as a timeout, not as "busy".
        if not 0 <= self.sqlite_busy_timeout_seconds < self.operation_timeout_seconds:
            raise ValueError("sqlite_busy_timeout_seconds must be below operation_timeout_seconds")
