"""Templates inside JSON values and steps."""

from typing import Any

import pytest

from pipeline_models import (
    FilterStep,
    HttpStep,
    KafkaStep,
    LogStep,
    Step,
    StepId,
    TemplateSyntaxError,
    TransformStep,
    compile_value,
    find_templates,
    step_references,
    step_templates,
)


def test_find_templates_reports_sub_paths() -> None:
    value = {
        "a": "${{ event.x }}",
        "b": ["plain", {"c-d": "x ${{ steps.s }}"}],
        "n": 1,
        "t": True,
        "z": None,
    }
    assert find_templates(value, path="$.output") == [
        ("$.output.a", "${{ event.x }}"),
        ('$.output.b[1]["c-d"]', "x ${{ steps.s }}"),
    ]


def test_find_templates_on_a_string() -> None:
    assert find_templates("${{ a }}") == [("", "${{ a }}")]
    assert find_templates("no template") == []


def test_compile_value_renders_nested_json() -> None:
    template = compile_value(
        {"n": "${{ event.n }}", "s": "id-${{ event.n }}", "l": ["${{ event.l }}", 2], "k": None}
    )
    context: dict[str, Any] = {"event": {"n": 7, "l": [1]}, "steps": {}}
    assert template.render(context) == {"n": 7, "s": "id-7", "l": [[1], 2], "k": None}


def test_compile_value_rejects_bad_template() -> None:
    with pytest.raises(TemplateSyntaxError):
        compile_value({"a": ["${{ a == }}"]})


def sid(text: str) -> StepId:
    return StepId(text)


@pytest.mark.parametrize(
    ("step", "templates"),
    [
        (
            TransformStep(id=sid("t"), output={"a": "${{ steps.x }}", "b": "lit"}),
            [(".output.a", "${{ steps.x }}")],
        ),
        (FilterStep(id=sid("f"), condition="${{ steps.x }}"), [(".condition", "${{ steps.x }}")]),
        (
            HttpStep(
                id=sid("h"),
                url="https://x/${{ steps.a }}",
                headers={"X-Id": "${{ steps.b }}"},
                body={"k": ["${{ steps.c }}"]},
            ),
            [
                (".url", "https://x/${{ steps.a }}"),
                ('.headers["X-Id"]', "${{ steps.b }}"),
                (".body.k[0]", "${{ steps.c }}"),
            ],
        ),
        (
            KafkaStep(
                id=sid("k"),
                topic="t",
                value="${{ steps.a }}",
                key="${{ steps.b }}",
                headers={"h": "${{ steps.c }}"},
            ),
            [
                (".value", "${{ steps.a }}"),
                (".key", "${{ steps.b }}"),
                (".headers.h", "${{ steps.c }}"),
            ],
        ),
        (LogStep(id=sid("l"), message="m ${{ steps.a }}"), [(".message", "m ${{ steps.a }}")]),
    ],
)
def test_step_templates_cover_every_templated_field(
    step: Step, templates: list[tuple[str, str]]
) -> None:
    assert step_templates(step) == templates


def test_step_references_union_all_fields() -> None:
    step = HttpStep(
        id=sid("h"),
        url="https://x/${{ steps.a.id }}",
        headers={"X": "${{ steps.b }}"},
        body={"k": "${{ event | steps.c }}"},
    )
    assert step_references(step) == {"a", "b"}
