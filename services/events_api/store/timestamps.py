"""Timezone-aware UTC times, and their exact integer form for SQLite and cursors.

Every time the store writes comes from :func:`utc_now` (or an injected clock of the same shape).
SQLite has no timestamp type, and a page cursor must compare exactly, so both use whole
microseconds since the Unix epoch: integers sort like the times and lose nothing of a
``datetime`` (which has microsecond resolution, like PostgreSQL's ``timestamptz``).
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def utc_now() -> datetime:
    """The current time in UTC, timezone-aware."""
    return datetime.now(UTC)


def to_micros(moment: datetime) -> int:
    """Microseconds since the Unix epoch of a timezone-aware ``moment``.

    Raises:
        ValueError: ``moment`` is naive (its meaning would depend on the machine's zone).
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware time, got naive {moment.isoformat()}")
    return (moment - _EPOCH) // _MICROSECOND


def from_micros(micros: int) -> datetime:
    """The UTC time ``micros`` microseconds after the Unix epoch."""
    return _EPOCH + timedelta(microseconds=micros)


def as_utc(moment: datetime) -> datetime:
    """``moment`` expressed in UTC (so equal times also print the same)."""
    return moment.astimezone(UTC)
