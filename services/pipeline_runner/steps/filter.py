"""The ``filter`` step: decide whether the steps depending on it run for this event.

Publishes ``{"passed": bool}`` by JMESPath truthiness of its condition; the engine skips the
dependents of a filter that did not pass, and the event still succeeds.
"""

from typing import Any

from pipeline_models import FilterStep, is_truthy
from pipeline_runner.steps.rendering import Scope, compile_text, render_one


class FilterExecutor:
    """Evaluates a filter step's condition."""

    def __init__(self, step: FilterStep) -> None:
        self._condition = compile_text(step.condition)

    def run_inline(self, scope: Scope) -> dict[str, Any]:
        """Evaluate the condition for one event (it never waits)."""
        return {"passed": is_truthy(render_one(self._condition, scope))}

    async def __call__(self, scope: Scope) -> dict[str, Any]:
        """Evaluate the condition for one event."""
        return self.run_inline(scope)


def filter_passed(output: Any) -> bool:
    """Read a filter step's published output."""
    return isinstance(output, dict) and output.get("passed") is True
