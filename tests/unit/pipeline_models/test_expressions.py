"""Templates: the ``${{ … }}`` scanner, whole vs interpolated rendering, evaluation errors."""

from typing import Any

import pytest

from pipeline_models import ExpressionError, TemplateSyntaxError, is_truthy, parse_template

CONTEXT: dict[str, Any] = {
    "event": {"data": {"n": 3, "name": "ada", "items": [1, 2], "flag": False, "nothing": None}},
    "steps": {"a": {"x": {"y": 1}}, "my-id": {"v": "q"}},
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("plain text", "plain text"),
        ("${{ event.data.n }}", 3),
        ("  ${{ event.data.n }}\n", 3),
        ("${{event.data.items}}", [1, 2]),
        ("${{ event.data.flag }}", False),
        ("${{ event.data.nothing }}", None),
        ("${{ steps.a.x }}", {"y": 1}),
        ('${{ steps."my-id".v }}', "q"),
        ("n=${{ event.data.n }}", "n=3"),
        ("${{ event.data.n }}${{ event.data.n }}", "33"),
        ("hi ${{ event.data.name }}!", "hi ada!"),
        ("${{ event.data.items }} items", "[1,2] items"),
        ("x=${{ event.data.nothing }}", "x=null"),
        ("${{ event.data.flag }}-", "false-"),
        ("obj ${{ steps.a.x }}", 'obj {"y":1}'),
        # '}}' inside quotes does not close the expression.
        ("${{ '}}' }}", "}}"),
        ('${{ "}}" }}', None),
        ('${{ `"}}"` }}', "}}"),
        # Nested braces: JSON literals and multi-select hashes.
        ('${{ `{"a": {"b": 1}}` }}', {"a": {"b": 1}}),
        ("${{ {a: {b: event.data.n}} }}", {"a": {"b": 3}}),
        ("${{ {a: event.data.n}}}", {"a": 3}),
        # Escaped quote characters inside quotes.
        ("${{ 'it\\'s }}' }}", "it's }}"),
        # A literal '${{' comes from a raw string.
        ("${{ '${{' }} x", "${{ x"),
        ("a }} b", "a }} b"),
    ],
)
def test_render(template: str, expected: Any) -> None:
    assert parse_template(template).render(CONTEXT) == expected


@pytest.mark.parametrize(
    ("template", "whole"),
    [
        ("${{ event }}", True),
        (" \t${{ event }} ", True),
        ("a${{ event }}", False),
        ("${{ event }}${{ event }}", False),
        ("no expression", False),
    ],
)
def test_whole(template: str, whole: bool) -> None:
    assert parse_template(template).whole is whole


@pytest.mark.parametrize(
    ("template", "position", "fragment"),
    [
        ("${{ event", 0, "unterminated '${{' at position 0"),
        ("ok ${{ 'x }}", 3, "unterminated '${{' at position 3"),
        ("${{ `{}` }} ${{ a", 12, "unterminated"),
        ("${{ `not json` }}", 0, "a `literal` must be JSON"),
        ("${{ {a: b }}", 0, "unterminated"),
        ("${{ }}", 0, "empty expression"),
        ("x ${{ a == }}", 2, "Incomplete expression"),
        ("${{ a[ }}", 0, "invalid expression at position 0"),
        ("${{ steps.my-id }}", 0, "Unknown token '-'"),
        ("${{ nope(a) }}", 0, "unknown function nope()"),
        ("${{ length(a, b) }}", 0, "takes 1 arguments, got 2"),
        ("${{ merge() }}", 0, "takes at least 1 arguments, got 0"),
        ("${{ steps }}", 0, "reference a step by id"),
    ],
)
def test_syntax_errors(template: str, position: int, fragment: str) -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        parse_template(template)
    assert fragment in str(caught.value)
    assert caught.value.position == position


def test_non_json_literal_is_rejected_every_time() -> None:
    # jmespath caches compiled expressions and warns only on the first compile.
    for _ in range(2):
        with pytest.raises(TemplateSyntaxError, match="must be JSON"):
            parse_template("${{ `deprecated` }}")


def test_syntax_error_is_one_line_without_caret() -> None:
    with pytest.raises(TemplateSyntaxError) as caught:
        parse_template("${{ a == }}")
    assert "\n" not in str(caught.value)
    assert not str(caught.value).endswith("^")


def test_evaluation_error_is_expression_error() -> None:
    template = parse_template("${{ length(event.data.n) }}")
    with pytest.raises(ExpressionError, match="length"):
        template.render(CONTEXT)
    assert ExpressionError.permanent


@pytest.mark.parametrize(
    ("template", "text"),
    [
        ("${{ event.data.n }}", "3"),
        ("${{ event.data.name }}", "ada"),
        ("${{ event.data.items }}", "[1,2]"),
    ],
)
def test_render_string_for_string_fields(template: str, text: str) -> None:
    assert parse_template(template).render_string(CONTEXT) == text


def test_expressions_are_compiled_once() -> None:
    template = parse_template("a ${{ event.data.n }} b ${{ steps.a }}")
    assert [type(part).__name__ for part in template.parts] == [
        "str",
        "Expression",
        "str",
        "Expression",
    ]
    assert template.references == {"a"}


@pytest.mark.parametrize(
    ("value", "truthy"),
    [
        (None, False),
        (False, False),
        ("", False),
        ([], False),
        ({}, False),
        (0, True),
        (0.0, True),
        ("false", True),
        ([0], True),
        (True, True),
    ],
)
def test_is_truthy_follows_jmespath(value: Any, truthy: bool) -> None:
    assert is_truthy(value) is truthy
