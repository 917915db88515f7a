"""Waiting shows a spinner on a terminal (redrawn in place, erased after) and sparse lines
elsewhere; the animation never outlives the wait."""

import asyncio
import io
import os

import pytest

from events_api.client.progress import (
    PlainProgress,
    Spinner,
    progress_for,
    showing,
)


class Terminal(io.StringIO):
    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


def test_the_choice_follows_the_stream() -> None:
    assert isinstance(progress_for(Terminal(), "p", timeout_seconds=5, environ={}), Spinner)
    assert isinstance(
        progress_for(io.StringIO(), "p", timeout_seconds=5, environ={}), PlainProgress
    )
    dumb = {"TERM": "dumb"}
    assert isinstance(progress_for(Terminal(), "p", timeout_seconds=5, environ=dumb), PlainProgress)


def test_plain_progress_writes_a_line_per_new_reason_only() -> None:
    stream = io.StringIO()
    progress = PlainProgress(stream, "p", timeout_seconds=30, clock=lambda: 0.0)
    for status in (
        {"ready": False, "reason": "Pending"},
        {"ready": False, "reason": "Pending"},
        {"ready": False, "reason": "RevisionMissing", "message": "pulling"},
        {"ready": True},
    ):
        progress.update(status)
    progress.finish()
    assert stream.getvalue().splitlines() == [
        "waiting up to 30 s for p to become ready",
        "waiting for p to become ready (0 s): Pending",
        "waiting for p to become ready (0 s): RevisionMissing: pulling",
    ]


def test_the_spinner_redraws_in_place_and_erases_itself() -> None:
    stream = Terminal()
    spinner = Spinner(stream, "p", width=80, frames="ab", clock=lambda: 0.0)
    spinner.update({"ready": False, "reason": "Pending"})
    spinner.finish()
    assert stream.getvalue() == (
        "\r\x1b[Ka waiting for p to become ready (0 s): Pending" + "\r\x1b[K"
    )
    assert "\n" not in stream.getvalue()


async def test_showing_stops_the_animation_when_the_work_ends() -> None:
    stream = Terminal()
    spinner = Spinner(stream, "p", width=80, frames="ab", clock=lambda: 0.0)

    async def work() -> str:
        await asyncio.sleep(0)
        return "done"

    assert await showing(spinner, work()) == "done"
    # Drawn at least once, erased last; the leak check fails the test if the animation runs on.
    assert stream.getvalue().startswith("\r\x1b[Ka waiting for p")
    assert stream.getvalue().endswith("\r\x1b[K")


async def test_showing_erases_the_spinner_when_the_work_fails() -> None:
    stream = Terminal()
    spinner = Spinner(stream, "p", width=80, frames="ab", clock=lambda: 0.0)

    async def work() -> None:
        raise LookupError("failed")

    with pytest.raises(LookupError):
        await showing(spinner, work())
    assert stream.getvalue().endswith("\r\x1b[K")


def test_a_terminal_of_unknown_width_still_shows_the_whole_line() -> None:
    # A fresh pseudo-terminal reports 0 columns, as one under `script` or some CI runners does.
    controller, terminal_fd = os.openpty()
    try:
        with open(terminal_fd, "w", encoding="utf-8", closefd=True) as terminal:
            progress = progress_for(terminal, "p", timeout_seconds=5, environ={})
            assert isinstance(progress, Spinner)
            progress.update({"ready": False, "reason": "Pending"})
            shown = os.read(controller, 4096).decode()
    finally:
        os.close(controller)
    assert "waiting for p to become ready (0 s): Pending" in shown
