"""Collecting conversion and unknown-field detection on generic types."""

from typing import Annotated, Any

import msgspec

from pipeline_models import Problem, unknown_field_problems
from pipeline_models.conversion import convert_collecting


class Inner(msgspec.Struct, frozen=True, kw_only=True):
    n: Annotated[int, msgspec.Meta(ge=0)]
    tags: Annotated[list[str], msgspec.Meta(max_length=2)] = []


class Outer(msgspec.Struct, frozen=True, kw_only=True):
    inner: Inner | None = None
    pair: tuple[int, str] = (0, "")
    by_name: dict[str, Inner] = {}
    many: tuple[Inner, ...] = ()
    anything: Any = None


def test_valid_input_converts() -> None:
    value, problems = convert_collecting({"inner": {"n": 1}}, Outer, path="$")
    assert value == Outer(inner=Inner(n=1))
    assert problems == []


def test_every_nested_problem_is_found() -> None:
    raw = {
        "inner": {"n": -1, "tags": [1]},
        "pair": ["x", 1],
        "by_name": {"a b": {"n": "1"}, "ok": {"n": 1}},
        "many": [{"n": 1}, {}],
    }
    _, problems = convert_collecting(raw, Outer, path="$.doc")
    assert problems == [
        Problem(path="$.doc.inner.n", message="Expected `int` >= 0"),
        Problem(path="$.doc.inner.tags[0]", message="Expected `str`, got `int`"),
        Problem(path="$.doc.pair[0]", message="Expected `int`, got `str`"),
        Problem(path="$.doc.pair[1]", message="Expected `str`, got `int`"),
        Problem(path='$.doc.by_name["a b"].n', message="Expected `int`, got `str`"),
        Problem(path="$.doc.many[1].n", message="missing required field"),
    ]


def test_container_constraint_falls_back_to_msgspec() -> None:
    _, problems = convert_collecting({"inner": {"n": 1, "tags": ["a", "b", "c"]}}, Outer, path="$")
    assert problems == [Problem(path="$.inner.tags", message="Expected `array` of length <= 2")]


def test_unknown_fields_in_nested_containers() -> None:
    raw = {
        "inner": {"n": 1, "x": 1},
        "by_name": {"k": {"n": 1, "y": 2}},
        "many": [{"n": 1}, {"n": 1, "z": 3}],
        "anything": {"free": "form"},
        "top": 0,
    }
    paths = [problem.path for problem in unknown_field_problems(raw, Outer)]
    assert paths == ["$.inner.x", "$.by_name.k.y", "$.many[1].z", "$.top"]


def test_unknown_fields_ignore_wrong_shapes() -> None:
    assert unknown_field_problems({"inner": 3, "many": {"a": 1}}, Outer) == []
