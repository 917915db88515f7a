"""Which steps an expression reads, found by walking its JMESPath syntax tree.

Expressions are evaluated against ``{"event": …, "steps": {<id>: <output>}}``; a step that reads
``steps.<id>`` depends on step ``<id>``. Reading the tree (never a regex) tells a reference from
look-alikes: in ``event.data[*].steps.x`` or ``event | steps.x`` the ``steps`` field is looked
up in the event, not in the root context, so it is no reference.

The walk tracks what each node is evaluated against (jmespath 1.x ``parser.py``/``visitor.py``):

* ``subexpression``, ``pipe``, ``index_expression``: children in turn, each against the
  previous child's result (``@.steps.a`` and ``steps | a`` are references, since ``@`` at the
  root is the root).
* ``projection``, ``value_projection``, ``filter_projection``, ``flatten``: the left side
  against the current value, the right side and the filter condition against its elements.
* function arguments, comparator/``&&``/``||``/``!`` operands, multi-select list and dict values:
  against the current value (so at the root they can reference steps).
* ``expref`` (``&expr``): against elements a function chooses, never the root.

The ``steps`` object itself may only be followed by a step id: ``steps``, ``steps.*``,
``steps[*]``, ``keys(steps)`` are problems. The same walk checks function names and arities,
which jmespath only checks while evaluating.
"""

from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

from jmespath.functions import Functions

from pipeline_models.ids import StepId

STEPS_FIELD = "steps"
BARE_STEPS_MESSAGE = "reference a step by id: steps.<id> (or steps.\"<id>\" for ids with '-')"

_FUNCTIONS: dict[str, Any] = Functions.FUNCTION_TABLE


class _Context(Enum):
    """What a node is evaluated against, or what it yields."""

    ROOT = "root"
    STEPS = "steps"
    OTHER = "other"


class _Findings:
    """Accumulates what one walk finds (private, mutable, short-lived)."""

    def __init__(self) -> None:
        self.references: set[StepId] = set()
        self.problems: list[str] = []

    def problem(self, message: str) -> None:
        if message not in self.problems:
            self.problems.append(message)

    def consume(self, result: _Context) -> None:
        """Record a problem when the ``steps`` object is used as a value."""
        if result is _Context.STEPS:
            self.problem(BARE_STEPS_MESSAGE)


def analyze_expression(parsed: Mapping[str, Any]) -> tuple[frozenset[StepId], tuple[str, ...]]:
    """The step ids a parsed expression references, and its problems.

    Args:
        parsed: the syntax tree, ``jmespath.compile(text).parsed``.

    Returns:
        The referenced step ids, and messages for misuses of ``steps`` and bad function calls.
    """
    findings = _Findings()
    findings.consume(_visit(parsed, _Context.ROOT, findings))
    return frozenset(findings.references), tuple(findings.problems)


def _visit(node: Mapping[str, Any], context: _Context, findings: _Findings) -> _Context:
    """Walk ``node`` evaluated against ``context``; return what it yields."""
    handler = _HANDLERS.get(node["type"], _visit_leaf)
    return handler(node, context, findings)


def _visit_current(node: Mapping[str, Any], context: _Context, findings: _Findings) -> _Context:
    return context


def _visit_sequence(node: Mapping[str, Any], context: _Context, findings: _Findings) -> _Context:
    for child in node["children"]:
        context = _visit(child, context, findings)
    return context


def _visit_pair(node: Mapping[str, Any], context: _Context, findings: _Findings) -> _Context:
    return _visit(node["children"][0], context, findings)


def _visit_projection(node: Mapping[str, Any], context: _Context, findings: _Findings) -> _Context:
    left, *rest = node["children"]
    findings.consume(_visit(left, context, findings))
    for child in rest:
        findings.consume(_visit(child, _Context.OTHER, findings))
    return _Context.OTHER


def _visit_operands(node: Mapping[str, Any], context: _Context, findings: _Findings) -> _Context:
    if node["type"] == "function_expression":
        _check_function(node["value"], len(node["children"]), findings)
    for child in node["children"]:
        findings.consume(_visit(child, context, findings))
    return _Context.OTHER


def _visit_expref(node: Mapping[str, Any], context: _Context, findings: _Findings) -> _Context:
    findings.consume(_visit(node["children"][0], _Context.OTHER, findings))
    return _Context.OTHER


def _visit_leaf(node: Mapping[str, Any], context: _Context, findings: _Findings) -> _Context:
    if node["type"] != "literal":
        # index and slice (whose children are numbers, not nodes) read no field, but indexing
        # or slicing the steps object is a misuse.
        findings.consume(context)
    return _Context.OTHER


def _visit_field_node(node: Mapping[str, Any], context: _Context, findings: _Findings) -> _Context:
    return _visit_field(node["value"], context, findings)


def _visit_field(name: str, context: _Context, findings: _Findings) -> _Context:
    if context is _Context.ROOT and name == STEPS_FIELD:
        return _Context.STEPS
    if context is _Context.STEPS:
        findings.references.add(StepId(name))
    return _Context.OTHER


def _check_function(name: str, arity: int, findings: _Findings) -> None:
    entry = _FUNCTIONS.get(name)
    if entry is None:
        known = ", ".join(sorted(_FUNCTIONS))
        findings.problem(f"unknown function {name}(); JMESPath functions are: {known}")
        return
    signature = entry["signature"]
    expected = len(signature)
    if signature and signature[-1].get("variadic"):
        if arity < expected:
            findings.problem(f"function {name}() takes at least {expected} arguments, got {arity}")
    elif arity != expected:
        findings.problem(f"function {name}() takes {expected} arguments, got {arity}")


_Handler = Callable[[Mapping[str, Any], _Context, _Findings], _Context]
_HANDLERS: dict[str, _Handler] = {
    "field": _visit_field_node,
    "current": _visit_current,
    "identity": _visit_current,
    "subexpression": _visit_sequence,
    "pipe": _visit_sequence,
    "index_expression": _visit_sequence,
    "key_val_pair": _visit_pair,
    "projection": _visit_projection,
    "value_projection": _visit_projection,
    "filter_projection": _visit_projection,
    "flatten": _visit_projection,
    "comparator": _visit_operands,
    "and_expression": _visit_operands,
    "or_expression": _visit_operands,
    "not_expression": _visit_operands,
    "function_expression": _visit_operands,
    "multi_select_list": _visit_operands,
    "multi_select_dict": _visit_operands,
    "expref": _visit_expref,
}
"""Node types of jmespath 1.x's ``ast.py``; literal, index and slice fall to the leaf case."""
