"""Templates inside JSON values and inside steps: finding, compiling and rendering them.

A step's templated fields hold JSON (``output``, ``body``, ``value``) or strings (``url``,
``message``, header values); only strings containing ``${{`` are parsed. Object keys are
literal. :func:`step_templates` is the single list of which step fields are templates: the
validation, the dependency inference and the runner all read it, so they cannot disagree.
"""

from collections.abc import Mapping
from typing import Any

import msgspec

from pipeline_models.expressions import Template, is_template, parse_template
from pipeline_models.ids import StepId
from pipeline_models.problems import join_index, join_key
from pipeline_models.steps import FilterStep, HttpStep, KafkaStep, LogStep, Step, TransformStep


def find_templates(value: Any, *, path: str = "") -> list[tuple[str, str]]:
    """Every template string in a JSON value, with its sub-path (``""``, ``.a[0]``, …).

    Args:
        value: JSON-like data (dicts, lists, strings, numbers, booleans, null).
        path: prefix of the returned paths, e.g. ``$.steps[0].output``.
    """
    if isinstance(value, str):
        return [(path, value)] if is_template(value) else []
    found: list[tuple[str, str]] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            found += find_templates(item, path=join_key(path, str(key)))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found += find_templates(item, path=join_index(path, index))
    return found


class ValueTemplate(msgspec.Struct, frozen=True, kw_only=True):
    """A JSON value whose strings are templates, compiled once (see :func:`compile_value`)."""

    compiled: Any
    """The value with every template string replaced by its :class:`Template`."""

    def render(self, context: Mapping[str, Any]) -> Any:
        """Render every template in the value against ``context`` (pure)."""
        return _render(self.compiled, context)


def compile_value(value: Any) -> ValueTemplate:
    """Compile every template string inside ``value``; raise TemplateSyntaxError if one is bad."""
    return ValueTemplate(compiled=_compile(value))


def _compile(value: Any) -> Any:
    if isinstance(value, str):
        return parse_template(value) if is_template(value) else value
    if isinstance(value, Mapping):
        return {key: _compile(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_compile(item) for item in value]
    return value


def _render(value: Any, context: Mapping[str, Any]) -> Any:
    if isinstance(value, Template):
        return value.render(context)
    if isinstance(value, dict):
        return {key: _render(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [_render(item, context) for item in value]
    return value


def step_templated_fields(step: Step) -> list[tuple[str, Any]]:
    """A step's templated fields as ``(sub-path, value)``, e.g. ``(".headers.Accept", "…")``."""
    match step:
        case TransformStep():
            return [(".output", step.output)]
        case FilterStep():
            return [(".condition", step.condition)]
        case HttpStep():
            return [(".url", step.url), (".headers", step.headers), (".body", step.body)]
        case KafkaStep():
            return [(".value", step.value), (".key", step.key), (".headers", step.headers)]
        case LogStep():
            return [(".message", step.message)]


def step_templates(step: Step) -> list[tuple[str, str]]:
    """Every template string of a step, with its sub-path relative to the step."""
    found: list[tuple[str, str]] = []
    for path, value in step_templated_fields(step):
        found += find_templates(value, path=path)
    return found


def step_references(step: Step) -> frozenset[StepId]:
    """Steps whose outputs a step's expressions read (its inferred dependencies).

    Raises:
        TemplateSyntaxError: when a template does not parse (validated specs never do).
    """
    found: frozenset[StepId] = frozenset()
    for _, text in step_templates(step):
        found |= parse_template(text).references
    return found
