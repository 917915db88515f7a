"""Bounded waits for the end-to-end tests: a bound is never a timing assertion, and a wait that
runs out fails with what was observed, not with a bare TimeoutError."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

BOUND_SECONDS = 120.0
"""The longest any single wait may take (a bound on a stuck system, never a performance goal)."""

POLL_SECONDS = 0.1
"""Pause between two looks at state that announces no change (another process's)."""


@asynccontextmanager
async def bounded(
    what: str, *, describe: Callable[[], str], seconds: float = BOUND_SECONDS
) -> AsyncIterator[None]:
    """Run the block within `seconds`; fail saying `what` was awaited and what `describe` sees."""
    try:
        async with asyncio.timeout(seconds):
            yield
    except TimeoutError:
        raise AssertionError(
            f"{what}: still not the case after {seconds:g} s\n{describe()}"
        ) from None


async def until(
    condition: Callable[[], bool],
    what: str,
    *,
    describe: Callable[[], str],
    seconds: float = BOUND_SECONDS,
) -> None:
    """Poll `condition` (state of other processes, which announces nothing) within a bound."""
    async with bounded(what, describe=describe, seconds=seconds):
        while not condition():  # noqa: ASYNC110 - another process's state: nothing to wait on
            await asyncio.sleep(POLL_SECONDS)
