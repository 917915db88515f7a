"""Rendering a step's templates per event, fast, with failures translated into the runner's errors.

:mod:`pipeline_models` parses and validates templates (``${{ JMESPath }}``) and is the reference
for what they render to. Its renderer builds a new JMESPath interpreter for every expression of
every event; here each template is compiled once, at start-up, into plain functions:

* an expression that is a dotted path of names (``event.data.order_id``, the most common kind)
  becomes a chain of dictionary look-ups, with JMESPath's meaning (a name on anything but an
  object, or a missing one, is null);
* any other expression is evaluated by one JMESPath interpreter the process keeps (it holds no
  per-evaluation state, and evaluation never awaits, so events cannot interleave inside it).

A JMESPath failure (a function given the wrong type, say) is permanent — the same event renders
the same way on every redelivery — so it raises :class:`StepInputInvalid`, with the message
:class:`pipeline_models.ExpressionError` would carry.
"""

from collections.abc import Callable, Mapping
from typing import Any, Final

from jmespath.exceptions import JMESPathError
from jmespath.visitor import TreeInterpreter

from pipeline_models import Expression, Template, parse_template
from pipeline_models import compile_value as compile_value_template
from pipeline_models.expressions import render_text as text_of
from pipeline_runner.errors import StepInputInvalid

Scope = Mapping[str, Any]
"""What expressions are evaluated against: ``{"event": …, "steps": {<id>: <output>}}``."""
Render = Callable[[Scope], Any]
"""A compiled template or value: renders it for one event."""

_INTERPRETER: Final = TreeInterpreter()
"""The process's JMESPath interpreter (stateless between evaluations; see the module doc)."""


def compile_text(text: str) -> Render:
    """Compile a string field whose whole-expression form keeps its JSON type (validated specs
    always parse)."""
    return _compile_template(parse_template(text))


def compile_value(value: Any) -> Render:
    """Compile a JSON value whose strings may be templates (``output``, ``body``, ``value``)."""
    return _compile_value(compile_value_template(value).compiled)


def render_one(template: Render, scope: Scope) -> Any:
    """Render a template keeping a whole expression's JSON type."""
    return template(scope)


def render_value(template: Render, scope: Scope) -> Any:
    """Render a compiled JSON value."""
    return template(scope)


def render_text(template: Render, scope: Scope) -> str:
    """Render a template for a string field (non-strings become compact JSON)."""
    return text_of(template(scope))


def render_text_map(templates: Mapping[str, Render], scope: Scope) -> dict[str, str]:
    """Render header-like maps: literal names, template values."""
    return {name: text_of(template(scope)) for name, template in templates.items()}


def _compile_value(value: Any) -> Render:
    """Mirror :meth:`pipeline_models.ValueTemplate.render`: objects and arrays are rebuilt on
    every render (no two events share them), other literals are returned as they are."""
    if isinstance(value, Template):
        return _compile_template(value)
    if isinstance(value, dict):
        items = [(key, _compile_value(item)) for key, item in value.items()]
        return lambda scope: {key: render(scope) for key, render in items}
    if isinstance(value, list):
        renders = [_compile_value(item) for item in value]
        return lambda scope: [render(scope) for render in renders]
    return lambda _: value


def _compile_template(template: Template) -> Render:
    """Mirror :meth:`pipeline_models.Template.render`."""
    parts = [
        part if isinstance(part, str) else _compile_expression(part) for part in template.parts
    ]
    if template.whole and len(parts) == 1 and not isinstance(parts[0], str):
        return parts[0]

    def render(scope: Scope) -> str:
        return "".join(part if isinstance(part, str) else text_of(part(scope)) for part in parts)

    return render


def _compile_expression(expression: Expression) -> Render:
    path = _field_path(expression.compiled.parsed)
    if path is not None:
        return _path_getter(path)
    tree = expression.compiled.parsed
    source = expression.source

    def evaluate(scope: Scope) -> Any:
        try:
            return _INTERPRETER.visit(tree, scope)
        except JMESPathError as error:
            raise StepInputInvalid(f"expression `{source}` failed: {error}") from error

    return evaluate


def _field_path(node: Any) -> tuple[str, ...] | None:
    """The names of a ``a.b.c`` expression (a field, or a subexpression of fields), else None."""
    if node["type"] == "field":
        return (node["value"],)
    if node["type"] == "subexpression":
        names: list[str] = []
        for child in node["children"]:
            found = _field_path(child)
            if found is None:
                return None
            names.extend(found)
        return tuple(names)
    return None


def _path_getter(path: tuple[str, ...]) -> Render:
    """A dotted path as look-ups; the usual lengths unrolled (this runs for every expression of
    every event, and a loop costs more than the look-ups)."""
    if len(path) == 2:  # ``event.key``, ``steps.shape``
        first, second = path

        def get_two(scope: Scope) -> Any:
            value = scope.get(first)
            return value.get(second) if isinstance(value, dict) else None

        return get_two
    if len(path) == 3:  # ``event.data.order_id``
        first, second, third = path

        def get_three(scope: Scope) -> Any:
            value = scope.get(first)
            if not isinstance(value, dict):
                return None
            value = value.get(second)
            return value.get(third) if isinstance(value, dict) else None

        return get_three

    def get(scope: Scope) -> Any:
        value: Any = scope
        for name in path:
            if not isinstance(value, dict):
                return None
            value = value.get(name)
        return value

    return get
