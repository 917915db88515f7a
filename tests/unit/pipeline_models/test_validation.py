"""validate_pipeline_spec: every problem, each at its JSON path."""

import re
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from pipeline_models import (
    MAX_ARG_STRLEN,
    PIPELINE_ENV,
    KafkaStep,
    PipelineId,
    PipelineSpec,
    PipelineVersion,
    Problem,
    RunnerSettings,
    SpecInvalid,
    encode_runner_env,
    validate_pipeline_spec,
)

LOG = {"type": "log", "id": "a", "message": "hi"}


def spec(**fields: Any) -> dict[str, Any]:
    document: dict[str, Any] = {"name": "p", "steps": [LOG]}
    document.update(fields)
    return document


def problems_of(document: object, *, strict_fields: bool = True) -> tuple[Problem, ...]:
    with pytest.raises(SpecInvalid) as caught:
        validate_pipeline_spec(document, strict_fields=strict_fields)
    return caught.value.problems


def assert_problems(problems: tuple[Problem, ...], expected: list[tuple[str, str]]) -> None:
    """Exactly the expected problems: same count, each (path, message fragment) matched once."""
    remaining = list(problems)
    for path, fragment in expected:
        match = next((p for p in remaining if p.path == path and fragment in p.message), None)
        assert match is not None, f"no problem at {path} with {fragment!r} in {problems}"
        remaining.remove(match)
    assert not remaining, f"unexpected problems: {remaining}"


CASES: list[tuple[str, object, list[tuple[str, str]]]] = [
    ("malformed json", b'{"name": ', [("$", "malformed JSON")]),
    ("not an object", b"[1]", [("$", "expected a JSON object")]),
    (
        "missing name and steps",
        {},
        [("$.name", "missing required field"), ("$.steps", "missing required field")],
    ),
    ("empty name", spec(name=""), [("$.name", "length >= 1")]),
    ("name too long", spec(name="n" * 254), [("$.name", "length <= 253")]),
    ("steps not a list", spec(steps={}), [("$.steps", "expected an array")]),
    ("no steps", spec(steps=[]), [("$.steps", "at least one step")]),
    (
        "unknown step type",
        spec(steps=[{"type": "sql", "id": "a"}]),
        [
            (
                "$.steps[0].type",
                "unknown type 'sql'; known types: filter, http, kafka, log, transform",
            )
        ],
    ),
    (
        "missing step type",
        spec(steps=[{"id": "a"}]),
        [("$.steps[0].type", "missing required field; known types: filter, http, kafka, log")],
    ),
    ("step not an object", spec(steps=[1]), [("$.steps[0]", "Expected `object`, got `int`")]),
    (
        "missing step fields",
        spec(steps=[{"type": "http"}]),
        [("$.steps[0].id", "missing required field"), ("$.steps[0].url", "missing required")],
    ),
    (
        "bad step ids",
        spec(steps=[{**LOG, "id": "a b"}, {**LOG, "id": ""}, {**LOG, "id": "x" * 64}]),
        [
            ("$.steps[0].id", "regex"),
            ("$.steps[1].id", "length >= 1"),
            ("$.steps[2].id", "length <= 63"),
        ],
    ),
    (
        "unknown fields everywhere",
        spec(
            colour="red",
            options={"scaling": {"min_scal": 1}, "delivery": {"dead_letter": {"topik": "x"}}},
            steps=[{**LOG, "timeout": 3, "retry": {"attempts": 2}}],
        ),
        [
            ("$.colour", "unknown field; known fields: description, name, options, steps"),
            ("$.options.scaling.min_scal", "unknown field"),
            ("$.options.delivery.dead_letter.topik", "unknown field"),
            ("$.options.delivery.dead_letter", "exactly one of `topic` and `uri`"),
            ("$.steps[0].timeout", "unknown field"),
            ("$.steps[0].retry.attempts", "unknown field; known fields: backoff_multiplier"),
        ],
    ),
    (
        "duplicate ids",
        spec(steps=[LOG, {**LOG, "message": "x"}, {**LOG, "id": "b"}, LOG]),
        [
            ("$.steps[1].id", "duplicate step id 'a', first used at $.steps[0]"),
            ("$.steps[3].id", "duplicate step id 'a', first used at $.steps[0]"),
        ],
    ),
    (
        "needs",
        spec(steps=[LOG, {**LOG, "id": "b", "needs": ["a", "nope", "b"]}]),
        [
            ("$.steps[1].needs[1]", "unknown step 'nope'; the steps are: a, b"),
            ("$.steps[1].needs[2]", "a step cannot need itself"),
        ],
    ),
    (
        "needs of a broken step still count as known",
        spec(steps=[{**LOG, "id": "a", "level": "LOUD"}, {**LOG, "id": "b", "needs": ["a"]}]),
        [("$.steps[0].level", "Invalid enum value 'LOUD'")],
    ),
    (
        "template syntax",
        spec(steps=[{**LOG, "message": "x ${{ a == }}"}]),
        [("$.steps[0].message", "invalid expression at position 2: Invalid jmespath expression")],
    ),
    (
        "unterminated template deep in json",
        spec(steps=[{"type": "transform", "id": "t", "output": {"a": [1, "${{ event"]}}]),
        [("$.steps[0].output.a[1]", "unterminated '${{' at position 0")],
    ),
    (
        "unknown reference",
        spec(steps=[LOG, {"type": "transform", "id": "t", "output": {"x-y": "${{ steps.zz }}"}}]),
        [('$.steps[1].output["x-y"]', "references unknown step 'zz'; the steps are: a, t")],
    ),
    (
        "bare steps",
        spec(steps=[{**LOG, "message": "${{ steps.* }}"}]),
        [("$.steps[0].message", "reference a step by id: steps.<id>")],
    ),
    (
        "self reference",
        spec(steps=[{**LOG, "message": "${{ steps.a }}"}]),
        [("$.steps[0].message", "a step cannot read its own output")],
    ),
    (
        "cycle through inferred edge",
        spec(
            steps=[
                {"type": "transform", "id": "a", "output": "${{ steps.b.v }}"},
                {**LOG, "id": "b", "needs": ["a"]},
            ]
        ),
        [("$.steps[0]", "dependency cycle: a -> b -> a")],
    ),
    (
        "cycle through expressions only, quoted ids",
        spec(
            steps=[
                {**LOG, "id": "x"},
                {"type": "transform", "id": "b-1", "output": '${{ steps."c-2" }}'},
                {"type": "transform", "id": "c-2", "output": '${{ steps."b-1" }}'},
            ]
        ),
        [("$.steps[1]", "dependency cycle: b-1 -> c-2 -> b-1")],
    ),
    (
        "filter condition must be whole",
        spec(
            steps=[
                {"type": "filter", "id": "f", "condition": "x ${{ event }}"},
                {"type": "filter", "id": "g", "condition": "true"},
            ]
        ),
        [
            ("$.steps[0].condition", "exactly one expression"),
            ("$.steps[1].condition", "exactly one expression"),
        ],
    ),
    (
        "topic names",
        spec(
            options={"event": "..", "delivery": {"dead_letter": {"topic": "."}}},
            steps=[
                {"type": "kafka", "id": "k", "topic": "a/b", "value": 1},
                {"type": "kafka", "id": "l", "topic": "t" * 250, "value": 1},
            ],
        ),
        [
            ("$.options.event", "'..' is not a valid Kafka topic name"),
            ("$.options.delivery.dead_letter.topic", "'.' is not a valid Kafka topic name"),
            ("$.steps[0].topic", "may only contain ASCII letters, digits"),
            ("$.steps[1].topic", "length <= 249"),
        ],
    ),
    (
        "option ranges",
        spec(
            options={
                "event": "",
                "scaling": {"min_scale": -1, "container_concurrency": 1001},
                "delivery": {"retry": 101, "backoff_policy": "random", "ordering": "any"},
                "timeouts": {"request_timeout_seconds": 601},
            }
        ),
        [
            ("$.options.event", "length >= 1"),
            ("$.options.scaling.min_scale", ">= 0"),
            ("$.options.scaling.container_concurrency", "<= 1000"),
            ("$.options.delivery.retry", "<= 100"),
            ("$.options.delivery.backoff_policy", "Invalid enum value 'random'"),
            ("$.options.delivery.ordering", "Invalid enum value 'any'"),
            ("$.options.timeouts.request_timeout_seconds", "<= 600"),
        ],
    ),
    (
        "option consistency",
        spec(
            options={
                "scaling": {"min_scale": 5, "max_scale": 2, "target_concurrency": 20},
                "delivery": {"timeout_seconds": 400, "retry": 30},
                "resources": {"cpu": "half", "memory": "256MB"},
            }
        ),
        [
            ("$.options.scaling.min_scale", "must not exceed max_scale (2)"),
            ("$.options.scaling.target_concurrency", "must not exceed container_concurrency"),
            ("$.options.delivery.timeout_seconds", "must not exceed timeouts.request_timeout"),
            ("$.options.delivery.retry", "longer than a day"),
            ("$.options.resources.cpu", "not a Kubernetes quantity"),
            ("$.options.resources.memory", "not a Kubernetes quantity"),
        ],
    ),
    (
        "dead letter uri",
        spec(options={"delivery": {"dead_letter": {"uri": "ftp://x"}}}),
        [("$.options.delivery.dead_letter.uri", "absolute http:// or https:// URI")],
    ),
    (
        "dead letter both",
        spec(options={"delivery": {"dead_letter": {"uri": "http://x", "topic": "t"}}}),
        [("$.options.delivery.dead_letter", "exactly one of `topic` and `uri`")],
    ),
    (
        "http step",
        spec(
            steps=[
                {
                    "type": "http",
                    "id": "h",
                    "method": "FETCH",
                    "url": "example.com/x",
                    "accept_status": [200, {"min": 300, "max": 200}, 600],
                    "headers": {"X-N": 1},
                },
                {
                    "type": "http",
                    "id": "i",
                    "url": "/relative",
                    "accept_status": [{"min": 300, "max": 200}],
                },
            ]
        ),
        [
            ("$.steps[0].method", "Invalid enum value 'FETCH'"),
            ("$.steps[0].accept_status[2]", "<= 599"),
            ('$.steps[0].headers["X-N"]', "Expected `str`, got `int`"),
            ("$.steps[1].url", "absolute http(s) URL"),
            ("$.steps[1].accept_status[0]", "min (300) must not exceed max (200)"),
        ],
    ),
    (
        "retry and timeouts",
        spec(
            options={"timeouts": {"request_timeout_seconds": 30}},
            steps=[
                {**LOG, "retry": {"max_attempts": 0}},
                {
                    **LOG,
                    "id": "b",
                    "retry": {"initial_backoff_seconds": 20, "max_backoff_seconds": 5},
                },
                {**LOG, "id": "c", "timeout_seconds": 60},
                {**LOG, "id": "d", "timeout_seconds": 0},
            ],
        ),
        [
            ("$.steps[0].retry.max_attempts", ">= 1"),
            ("$.steps[1].retry.max_backoff_seconds", "must not be below initial_backoff_seconds"),
            (
                "$.steps[2].timeout_seconds",
                "must not exceed timeouts.request_timeout_seconds (30 s)",
            ),
            ("$.steps[3].timeout_seconds", "> 0"),
        ],
    ),
]


@pytest.mark.parametrize(
    ("document", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_problems(document: object, expected: list[tuple[str, str]]) -> None:
    assert_problems(problems_of(document), expected)


def test_several_problems_in_several_sections_are_reported_together() -> None:
    document = {
        "name": "",
        "extra": 1,
        "options": {"event": "bad topic", "scaling": {"min_scale": 3, "max_scale": 1}},
        "steps": [
            {"type": "log", "id": "a", "message": "${{ steps.b }}"},
            {"type": "transform", "id": "b", "output": "${{ steps.a }}", "needs": ["zz"]},
            {"type": "nope", "id": "c"},
            {"type": "log", "id": "a", "message": "${{ ]] }}"},
            {"type": "filter", "id": "f", "condition": "${{ steps.c }}"},
        ],
    }
    assert_problems(
        problems_of(msgspec.json.encode(document)),
        [
            ("$.extra", "unknown field"),
            ("$.name", "length >= 1"),
            ("$.options.event", "may only contain"),
            ("$.options.scaling.min_scale", "must not exceed max_scale"),
            ("$.steps[2].type", "unknown type 'nope'"),
            ("$.steps[3].id", "duplicate step id 'a'"),
            ("$.steps[1].needs[0]", "unknown step 'zz'"),
            ("$.steps[3].message", "invalid expression"),
            ("$.steps[0]", "dependency cycle: a -> b -> a"),
        ],
    )


def test_valid_spec_is_returned_with_defaults() -> None:
    document = spec(
        options={"event": "orders.v1", "delivery": {"dead_letter": {"topic": "orders.dlq"}}},
        steps=[
            {"type": "transform", "id": "shape", "output": {"id": "${{ event.data.id }}"}},
            {
                "type": "http",
                "id": "post",
                "method": "POST",
                "url": "https://api.example.com/orders/${{ steps.shape.id }}",
                "body": "${{ steps.shape }}",
                "accept_status": [201, {"min": 200, "max": 204}],
            },
            {
                "type": "kafka",
                "id": "out",
                "topic": "orders.done",
                "value": "${{ steps.post.body }}",
            },
        ],
    )
    result = validate_pipeline_spec(msgspec.json.encode(document))
    assert isinstance(result, PipelineSpec)
    assert result.options.event == "orders.v1"
    assert result.options.delivery.retry == 10
    assert [step.id for step in result.steps] == ["shape", "post", "out"]
    assert isinstance(result.steps[2], KafkaStep)


def test_accepts_str_and_decoded_documents() -> None:
    assert validate_pipeline_spec(msgspec.json.encode(spec()).decode()).name == "p"
    assert validate_pipeline_spec(spec()).name == "p"


def test_pipeline_without_event_is_valid() -> None:
    assert validate_pipeline_spec(spec()).options.event is None


def test_unknown_fields_allowed_when_not_strict() -> None:
    document = spec(future=1, steps=[{**LOG, "later": True}])
    assert validate_pipeline_spec(document, strict_fields=False).steps[0].id == "a"
    assert_problems(
        problems_of(document),
        [("$.future", "unknown field"), ("$.steps[0].later", "unknown field")],
    )


def _spec_with_output(length: int) -> dict[str, Any]:
    return spec(steps=[{"type": "transform", "id": "t", "output": "x" * length}])


def _base_size() -> int:
    """Bytes of the env entry without the output text, read from an over-limit problem."""
    probe = 200_000
    (problem,) = problems_of(_spec_with_output(probe))
    match = re.search(r"would be (\d+) bytes", problem.message)
    assert match is not None
    return int(match.group(1)) - probe


def test_env_size_limit_just_under_and_just_over() -> None:
    fitting = MAX_ARG_STRLEN - _base_size()
    spec_at_limit = validate_pipeline_spec(_spec_with_output(fitting))
    (problem,) = problems_of(_spec_with_output(fitting + 1))
    assert problem.path == "$"
    assert f"would be {MAX_ARG_STRLEN + 1} bytes" in problem.message
    assert "MAX_ARG_STRLEN" in problem.message
    # A real version of the spec at the limit encodes within the limit.
    env = encode_runner_env(
        pipeline=PipelineVersion(
            pipeline_id=PipelineId("pipeline-abc123def456"),
            version=1,
            spec=spec_at_limit,
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
        ),
        settings=RunnerSettings(),
    )
    assert len(PIPELINE_ENV) + 1 + len(env[PIPELINE_ENV].encode()) + 1 <= MAX_ARG_STRLEN


def test_spec_invalid_message_lists_problems() -> None:
    error = SpecInvalid((Problem(path="$.a", message="bad"), Problem(path="$.b", message="worse")))
    assert str(error) == "the pipeline spec is invalid (2 problems): $.a: bad; $.b: worse"
