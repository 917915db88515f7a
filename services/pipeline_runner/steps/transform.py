"""The ``transform`` step: build a JSON value from the event and earlier outputs.

Publishes its rendered ``output`` as ``steps.<id>``.
"""

from typing import Any

from pipeline_models import TransformStep
from pipeline_runner.steps.rendering import Scope, compile_value, render_value


class TransformExecutor:
    """Renders a transform step's ``output`` (templates compiled once, at start-up)."""

    def __init__(self, step: TransformStep) -> None:
        self._output = compile_value(step.output)

    def run_inline(self, scope: Scope) -> Any:
        """Render the output for one event (it never waits: see :mod:`pipeline_runner.steps`)."""
        return render_value(self._output, scope)

    async def __call__(self, scope: Scope) -> Any:
        """Render the output for one event."""
        return self.run_inline(scope)
