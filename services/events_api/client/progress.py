"""What the user sees while `events start --wait` waits: a spinner, or sparse lines.

On a terminal, standard error shows one line redrawn in place (a spinner, the elapsed time and why
the trigger is not ready yet), erased when the wait ends. Anywhere else (a pipe, a CI log) a line
is written when the wait starts and whenever the reason changes — never one per tick.
"""

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, TextIO, TypeVar

from events_api.client.output import (
    ASCII_SPINNER_FRAMES,
    SPINNER_FRAMES,
    progress_text,
    spinner_line,
    why_not_ready,
)

JsonObject = dict[str, Any]
T = TypeVar("T")
_TICK_SECONDS = 0.1
_ERASE_LINE = "\r\x1b[K"
_DEFAULT_WIDTH = 80


class Progress(Protocol):
    """Shows a wait's progress."""

    def update(self, status: JsonObject) -> None:
        """A poll answered `status`."""
        ...

    async def animate(self) -> None:
        """Redraw until cancelled (or return at once when there is nothing to animate)."""
        ...

    def finish(self) -> None:
        """The wait ended: leave standard error clean for what comes next."""
        ...


class Spinner:
    """One line on a terminal, redrawn in place."""

    def __init__(
        self,
        stream: TextIO,
        pipeline_id: str,
        *,
        width: int,
        frames: str = SPINNER_FRAMES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._pipeline_id = pipeline_id
        self._width = width
        self._frames = frames
        self._clock = clock
        self._started = clock()
        self._frame = 0
        self._status: JsonObject | None = None

    def _draw(self) -> None:
        text = progress_text(
            self._pipeline_id, self._status, elapsed_seconds=self._clock() - self._started
        )
        line = spinner_line(self._frame, text, width=self._width, frames=self._frames)
        self._stream.write(_ERASE_LINE + line)
        self._stream.flush()

    def update(self, status: JsonObject) -> None:
        """Show why the trigger is not ready yet."""
        self._status = status
        self._draw()

    async def animate(self) -> None:
        """Turn the spinner every tenth of a second until cancelled."""
        while True:
            self._draw()
            self._frame += 1
            await asyncio.sleep(_TICK_SECONDS)

    def finish(self) -> None:
        """Erase the spinner's line."""
        self._stream.write(_ERASE_LINE)
        self._stream.flush()


class PlainProgress:
    """Lines for a log: one when the wait starts, one whenever the reason changes."""

    def __init__(
        self,
        stream: TextIO,
        pipeline_id: str,
        *,
        timeout_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._pipeline_id = pipeline_id
        self._clock = clock
        self._started = clock()
        self._last_reason: str | None = None
        self._say(f"waiting up to {timeout_seconds:g} s for {pipeline_id} to become ready")

    def _say(self, line: str) -> None:
        self._stream.write(line + "\n")
        self._stream.flush()

    def update(self, status: JsonObject) -> None:
        """Write a line if the trigger is not ready for a new reason."""
        if status.get("ready") is True:
            return
        reason = why_not_ready(status)
        if reason != self._last_reason:
            self._last_reason = reason
            elapsed = self._clock() - self._started
            self._say(progress_text(self._pipeline_id, status, elapsed_seconds=elapsed))

    async def animate(self) -> None:
        """Nothing moves in a log."""

    def finish(self) -> None:
        """Nothing to erase."""


def _is_terminal(stream: TextIO, environ: Mapping[str, str]) -> bool:
    try:
        return stream.isatty() and environ.get("TERM") != "dumb"
    except ValueError:  # a closed stream
        return False


def _width_of(stream: TextIO) -> int:
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError):
        return _DEFAULT_WIDTH
    # A pseudo-terminal nobody sized (e.g. under `script`) reports 0 columns.
    return columns if columns > 0 else _DEFAULT_WIDTH


def progress_for(
    stream: TextIO, pipeline_id: str, *, timeout_seconds: float, environ: Mapping[str, str]
) -> Progress:
    """A spinner when `stream` is a terminal, plain lines otherwise."""
    if not _is_terminal(stream, environ):
        return PlainProgress(stream, pipeline_id, timeout_seconds=timeout_seconds)
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
    frames = SPINNER_FRAMES if encoding.startswith("utf") else ASCII_SPINNER_FRAMES
    return Spinner(stream, pipeline_id, width=_width_of(stream), frames=frames)


async def showing(progress: Progress, work: Awaitable[T]) -> T:
    """Await `work` while `progress` animates; the animation is stopped and erased after."""
    animation = asyncio.create_task(progress.animate(), name="wait-progress")
    try:
        result = await work
    finally:
        animation.cancel()
        # Waits for the cancelled animation; our own cancellation still propagates.
        await asyncio.wait([animation])
        progress.finish()
    if not animation.cancelled() and (error := animation.exception()) is not None:
        raise error
    return result
