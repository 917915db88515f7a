"""Rendering a step's templates, with expression failures translated into the runner's errors.

:class:`pipeline_models.ExpressionError` (a JMESPath function given the wrong type, say) is
permanent: the same event renders the same way on every redelivery, so it becomes
:class:`StepInputInvalid`.
"""

from collections.abc import Mapping
from typing import Any

from pipeline_models import ExpressionError, Template, ValueTemplate, parse_template
from pipeline_runner.errors import StepInputInvalid

Scope = Mapping[str, Any]
"""What expressions are evaluated against: ``{"event": …, "steps": {<id>: <output>}}``."""


def render_value(template: ValueTemplate, scope: Scope) -> Any:
    """Render a JSON value whose strings are templates."""
    try:
        return template.render(scope)
    except ExpressionError as error:
        raise StepInputInvalid(str(error)) from error


def render_text(template: Template, scope: Scope) -> str:
    """Render a template for a string field (non-strings become compact JSON)."""
    try:
        return template.render_string(scope)
    except ExpressionError as error:
        raise StepInputInvalid(str(error)) from error


def render_one(template: Template, scope: Scope) -> Any:
    """Render a template keeping a whole expression's JSON type."""
    try:
        return template.render(scope)
    except ExpressionError as error:
        raise StepInputInvalid(str(error)) from error


def compile_text(text: str) -> Template:
    """Parse a string field once (validated specs always parse)."""
    return parse_template(text)


def render_text_map(templates: Mapping[str, Template], scope: Scope) -> dict[str, str]:
    """Render header-like maps: literal names, template values."""
    return {name: render_text(template, scope) for name, template in templates.items()}
