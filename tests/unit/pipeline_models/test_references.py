"""Step references inferred from the JMESPath syntax tree."""

import inspect

import jmespath
import jmespath.ast
import pytest

from pipeline_models import TemplateSyntaxError, parse_template
from pipeline_models.references import _HANDLERS, BARE_STEPS_MESSAGE, analyze_expression


def test_every_jmespath_node_type_is_handled() -> None:
    """A jmespath release with a new node type must fail here, not silently infer nothing."""
    builders = [value for name, value in vars(jmespath.ast).items() if inspect.isfunction(value)]
    node_types = {
        builder(*[None] * len(inspect.signature(builder).parameters))["type"]
        for builder in builders
    }
    leaves = {"literal", "index", "slice"}
    assert node_types == set(_HANDLERS) | leaves


@pytest.mark.parametrize(
    ("expression", "references"),
    [
        ("steps.a", {"a"}),
        ("steps.a.b.c", {"a"}),
        ('steps."my-id".x', {"my-id"}),
        ('steps."a b"', {"a b"}),
        ("steps.a[0].b", {"a"}),
        ("steps.a[*].b", {"a"}),
        ("steps.a.b[?c > `1`]", {"a"}),
        ("@.steps.a", {"a"}),
        ("steps | a", {"a"}),
        ("(steps).a", {"a"}),
        ("length(steps.a)", {"a"}),
        ("join(',', [steps.a, steps.b])", {"a", "b"}),
        ("[steps.a, event.x]", {"a"}),
        ("{x: steps.a, y: {z: steps.b}}", {"a", "b"}),
        ("steps.a == steps.b", {"a", "b"}),
        ("steps.a || steps.b && !(steps.c)", {"a", "b", "c"}),
        ("steps.[a, b]", {"a", "b"}),
        ("steps.{x: a}", {"a"}),
        ("not_null(steps.a, `1`)", {"a"}),
        ("steps.a | [0]", {"a"}),
        # Not references: evaluated against something other than the root.
        ("event | steps.x", set()),
        ("event.data[*].steps.x", set()),
        ("event.data.steps.x", set()),
        ("event.*.steps.x", set()),
        ("event[].steps.x", set()),
        ("event[?steps.x]", set()),
        ("event[?steps.x].steps.y", set()),
        ("sort_by(event.l, &steps.z)", set()),
        ("event.{a: steps.x}", set()),
        ("event.[steps.x]", set()),
        ("event[0].steps.x", set()),
        ('`{"steps": {"a": 1}}`.steps.a', set()),
        ("'steps'", set()),
        ("event.steps", set()),
        ("stepsx.a", set()),
    ],
)
def test_references(expression: str, references: set[str]) -> None:
    found, problems = analyze_expression(jmespath.compile(expression).parsed)
    assert problems == ()
    assert found == references


@pytest.mark.parametrize(
    "expression",
    [
        "steps",
        "steps.*",
        "steps[*]",
        "steps[]",
        "steps[0]",
        "steps[1:]",
        "steps[?a]",
        "keys(steps)",
        "length(@.steps)",
        "{all: steps}",
        "[steps]",
        "steps.{x: @}",
        "steps || event",
        # '!' binds tighter than '.': this is (!steps).c
        "!steps.c",
    ],
)
def test_steps_without_an_id_is_a_problem(expression: str) -> None:
    _, problems = analyze_expression(jmespath.compile(expression).parsed)
    assert problems == (BARE_STEPS_MESSAGE,)


def test_problem_is_reported_once_per_expression() -> None:
    _, problems = analyze_expression(jmespath.compile("[steps, steps.*, steps.a]").parsed)
    assert problems == (BARE_STEPS_MESSAGE,)


def test_template_collects_references_of_all_expressions() -> None:
    template = parse_template(
        '${{ steps.a }} and ${{ steps."b-c".x }} but not ${{ event.steps.d }}'
    )
    assert template.references == {"a", "b-c"}


def test_template_rejects_bare_steps() -> None:
    with pytest.raises(TemplateSyntaxError, match=r"reference a step by id: steps\.<id>"):
        parse_template("count: ${{ length(keys(steps)) }}")
