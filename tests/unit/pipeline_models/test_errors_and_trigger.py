"""Error bodies, the error tree, and trigger status shapes."""

from datetime import UTC, datetime

import msgspec
import pytest

from pipeline_models import (
    ContractError,
    ErrorBody,
    ErrorCode,
    ExpressionError,
    InvalidVersionSelector,
    PipelineModelsError,
    Problem,
    SpecInvalid,
    StepGraphError,
    TemplateSyntaxError,
    TriggerIntent,
    TriggerState,
    TriggerStatus,
)


def test_error_body_has_the_documented_shape() -> None:
    body = ErrorBody(error=ErrorCode.PIPELINE_HAS_NO_EVENT_OPTION, message="no event option")
    assert msgspec.json.decode(msgspec.json.encode(body)) == {
        "error": "pipeline_has_no_event_option",
        "message": "no event option",
    }


def test_error_body_carries_problems() -> None:
    body = ErrorBody(
        error=ErrorCode.VALIDATION_FAILED,
        message="invalid",
        problems=(Problem(path="$.name", message="missing"),),
    )
    assert msgspec.json.decode(msgspec.json.encode(body))["problems"] == [
        {"path": "$.name", "message": "missing"}
    ]


def test_error_body_decodes_codes_added_later() -> None:
    decoded = msgspec.json.decode(b'{"error": "brand_new", "message": "m"}', type=ErrorBody)
    assert decoded.error == "brand_new"


def test_error_codes_are_snake_case_and_include_the_required_ones() -> None:
    required = {
        "pipeline_has_no_event_option", "validation_failed", "not_found", "pipeline_not_found",
        "version_not_found", "trigger_not_found", "invalid_version", "unauthorized", "forbidden",
        "conflict", "precondition_failed", "payload_too_large", "malformed_body",
        "method_not_allowed", "unavailable", "internal_error",
    }  # fmt: skip
    values = {code.value for code in ErrorCode}
    assert required <= values
    assert all(value == value.lower() and " " not in value for value in values)


@pytest.mark.parametrize(
    "error",
    [
        SpecInvalid(()),
        InvalidVersionSelector("x"),
        TemplateSyntaxError("x", position=0),
        ExpressionError("x"),
        StepGraphError("x"),
        ContractError("x"),
    ],
)
def test_error_tree(error: PipelineModelsError) -> None:
    assert isinstance(error, PipelineModelsError)
    assert error.permanent


def test_trigger_status_omits_unknowns() -> None:
    assert msgspec.json.encode(TriggerStatus(ready=True)) == b'{"ready":true}'
    status = TriggerStatus(
        ready=False, reason="RevisionFailed", generation=2, observed_generation=1
    )
    assert msgspec.to_builtins(status) == {
        "ready": False,
        "reason": "RevisionFailed",
        "generation": 2,
        "observed_generation": 1,
    }


def test_trigger_intent_round_trip() -> None:
    intent = TriggerIntent(
        state=TriggerState.STARTED, version=2, at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    encoded = msgspec.json.encode(intent)
    assert msgspec.json.decode(encoded)["state"] == "started"
    assert msgspec.json.decode(encoded, type=TriggerIntent) == intent
