"""Pipelines, versions, the API view and version selectors."""

from datetime import UTC, datetime

import msgspec
import pytest

from pipeline_models import (
    LATEST,
    InvalidVersionSelector,
    Pipeline,
    PipelineId,
    PipelineModelsError,
    PipelineVersion,
    TenantId,
    parse_version_selector,
    pipeline_view,
    validate_pipeline_spec,
)


@pytest.mark.parametrize(
    ("text", "selected"),
    [(None, LATEST), ("latest", LATEST), ("1", 1), ("2", 2), ("10", 10), ("007", 7)],
)
def test_version_selector_accepts(text: str | None, selected: object) -> None:
    assert parse_version_selector(text) == selected


@pytest.mark.parametrize(
    "text", ["", "0", "-1", "+2", "1.0", "v2", "LATEST", " 1", "1 ", "\u00b2", "\u0661", "9" * 19]
)
def test_version_selector_refuses(text: str) -> None:
    with pytest.raises(InvalidVersionSelector) as caught:
        parse_version_selector(text)
    assert "'latest' or a positive integer" in str(caught.value)
    assert isinstance(caught.value, PipelineModelsError)


def test_pipeline_view_has_the_documented_shape() -> None:
    spec = validate_pipeline_spec(
        {
            "name": "orders",
            "options": {"event": "orders"},
            "steps": [{"type": "log", "id": "a", "message": "m"}],
        }
    )
    created = datetime(2026, 1, 1, tzinfo=UTC)
    updated = datetime(2026, 2, 1, tzinfo=UTC)
    version = PipelineVersion(
        pipeline_id=PipelineId("pipeline-abc123def456"), version=2, spec=spec, created_at=updated
    )
    view = pipeline_view(version, latest_version=2, created_at=created, tenant=TenantId("ada"))
    body = msgspec.json.decode(msgspec.json.encode(view))
    assert body["id"] == "pipeline-abc123def456"
    assert body["name"] == "orders"
    assert body["options"]["event"] == "orders"
    assert body["steps"] == [
        {
            "type": "log",
            "id": "a",
            "needs": [],
            "timeout_seconds": None,
            "retry": {
                "max_attempts": 1,
                "initial_backoff_seconds": 0.5,
                "max_backoff_seconds": 10.0,
                "backoff_multiplier": 2.0,
            },
            "message": "m",
            "level": "INFO",
        }
    ]
    assert body["version"] == 2
    assert body["tenant"] == "ada"
    assert body["created_at"] == "2026-01-01T00:00:00Z"
    assert body["updated_at"] == "2026-02-01T00:00:00Z"
    assert msgspec.json.decode(msgspec.json.encode(view), type=Pipeline) == view


def test_pipeline_version_requires_timezone_and_positive_version() -> None:
    spec = {"name": "n", "steps": [{"type": "log", "id": "a", "message": "m"}]}
    base = {"pipeline_id": "pipeline-abc123def456", "spec": spec}
    with pytest.raises(msgspec.ValidationError, match="timezone"):
        msgspec.convert(
            {**base, "version": 1, "created_at": "2026-01-01T00:00:00"}, PipelineVersion
        )
    with pytest.raises(msgspec.ValidationError, match=">= 1"):
        msgspec.convert(
            {**base, "version": 0, "created_at": "2026-01-01T00:00:00Z"}, PipelineVersion
        )
