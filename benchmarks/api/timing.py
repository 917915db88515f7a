"""Timing shared by the API benchmarks: an operation run N times by C concurrent workers, and
the median of rounds.

Latencies are per call (``time.perf_counter`` around one await); throughput is calls over the
wall time of the whole phase; CPU per call is what a CPU clock (e.g. this process's, plus a
database server's) advanced during the phase, over the calls: unlike wall time, it hardly moves
when other work on the machine takes the CPUs away. Each variant of a benchmark runs once per
round, the variants taking turns, so a burst of load from elsewhere on the machine hits one
round of every variant, not every round of one; a variant's result is its median round.
"""

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Phase:
    """What one phase (e.g. 2000 creates) measured."""

    ops_per_second: float
    p50_ms: float
    p99_ms: float
    cpu_us_per_op: float
    failures: int
    """Calls that answered "unavailable, retry" (e.g. a store call past its deadline)."""


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of already sorted values."""
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def process_cpu_seconds() -> float:
    """CPU seconds this process used so far, every thread (SQLite's workers too)."""
    return time.process_time()


async def run_concurrently(
    operation: Callable[[int], Awaitable[bool]],
    *,
    count: int,
    concurrency: int,
    cpu_clock: Callable[[], float] = process_cpu_seconds,
) -> Phase:
    """Call ``operation(i)`` for i in 0..count-1 from ``concurrency`` workers; time it.

    ``operation`` answers whether the call succeeded; the failures are counted, not retried.
    """
    indexes = iter(range(count))
    latencies: list[float] = []
    failures = 0

    async def worker() -> None:
        nonlocal failures
        # One iterator shared by the workers: each takes the next index when it is free.
        for index in indexes:
            started = time.perf_counter()
            succeeded = await operation(index)
            latencies.append(time.perf_counter() - started)
            failures += not succeeded

    cpu_started = cpu_clock()
    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(worker())
    elapsed = time.perf_counter() - started
    cpu = cpu_clock() - cpu_started
    latencies.sort()
    return Phase(
        ops_per_second=count / elapsed,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        cpu_us_per_op=cpu / count * 1e6,
        failures=failures,
    )


def median_round(rounds: Sequence[Phase]) -> Phase:
    """The round with the median throughput (the lower middle one of an even count)."""
    ordered = sorted(rounds, key=lambda phase: phase.ops_per_second)
    return ordered[(len(ordered) - 1) // 2]


def median(values: Sequence[float]) -> float:
    """The median of ``values``."""
    return statistics.median(values)
