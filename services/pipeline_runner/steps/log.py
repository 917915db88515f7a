"""The ``log`` step: write one line to the runner's log; publishes ``{"message": str}``."""

import logging
from typing import Any

from pipeline_models import LogStep
from pipeline_runner.steps.rendering import Scope, compile_text, render_text

_LEVELS = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
}


class LogExecutor:
    """Renders and logs a log step's message."""

    def __init__(self, step: LogStep, *, logger: logging.Logger) -> None:
        self._step_id = step.id
        self._level = _LEVELS[step.level.value]
        self._message = compile_text(step.message)
        self._logger = logger

    async def __call__(self, scope: Scope) -> dict[str, Any]:
        """Log the message for one event."""
        return self.run_inline(scope)

    def run_inline(self, scope: Scope) -> dict[str, Any]:
        """Log the message for one event (it never waits: logging handlers write
        synchronously)."""
        message = render_text(self._message, scope)
        event = scope["event"]
        self._logger.log(
            self._level,
            message,
            extra={"step": self._step_id, "event_id": event["id"], "event_source": event["source"]},
        )
        return {"message": message}
