"""The runner's compiled templates render exactly what pipeline_models' reference renders."""

from typing import Any

import pytest

from pipeline_models import ExpressionError, compile_value, parse_template
from pipeline_runner.errors import StepInputInvalid
from pipeline_runner.steps.rendering import compile_text, render_text
from pipeline_runner.steps.rendering import compile_value as compile_fast

SCOPE: dict[str, Any] = {
    "event": {
        "id": "partition:0/offset:7",
        "key": None,
        "data": {"n": 4, "name": "ab", "items": [{"sku": "A"}, {"sku": "B"}], "list": [1, 2]},
        "headers": {"xrequestid": "r-1"},
    },
    "steps": {"first": {"status": 200, "body": {"ok": True}}},
}

VALUES: list[Any] = [
    "${{ event.data.n }}",
    "${{ event.data.missing.deeper }}",
    "${{ event.data.list.length }}",
    "${{ event.data.name.first }}",
    "${{ event.key }}",
    "${{ nothing.here }}",
    "${{ event.id.first }}",
    "${{ event }}",
    "${{ steps.first.body }}",
    "${{ event.data.items[].sku }}",
    "${{ event.data.n > `2` }}",
    "${{ length(event.data.items) }}",
    "${{ {a: event.data.n, b: event.headers.xrequestid} }}",
    "n=${{ event.data.n }}, items=${{ event.data.items }}, none=${{ event.key }}",
    "  ${{ event.data.n }}  ",
    "plain text",
    "",
    {"a": ["${{ event.data.n }}", 1, None, True], "b": {"c": "x ${{ event.id }}"}},
    [],
    3.5,
    None,
]


@pytest.mark.parametrize("value", VALUES)
def test_values_render_as_the_reference_renders_them(value: Any) -> None:
    assert compile_fast(value)(SCOPE) == compile_value(value).render(SCOPE)


@pytest.mark.parametrize("text", [v for v in VALUES if isinstance(v, str)])
def test_text_renders_as_the_reference_renders_it(text: str) -> None:
    assert render_text(compile_text(text), SCOPE) == parse_template(text).render_string(SCOPE)


def test_rendered_objects_are_new_for_every_event() -> None:
    render = compile_fast({"a": [1, 2]})

    assert render(SCOPE) is not render(SCOPE)
    assert render(SCOPE)["a"] is not render(SCOPE)["a"]


def test_a_failing_expression_is_a_permanent_step_input_error_with_the_reference_message() -> None:
    text = "${{ length(event.data.n) }}"
    with pytest.raises(ExpressionError) as reference:
        parse_template(text).render(SCOPE)

    with pytest.raises(StepInputInvalid) as raised:
        compile_text(text)(SCOPE)

    assert str(raised.value) == str(reference.value)
    assert not raised.value.retryable
