"""Pipeline ids: shape, randomness, recognition."""

import pytest

from pipeline_models import is_pipeline_id, new_pipeline_id


def test_new_pipeline_id_has_documented_shape() -> None:
    pipeline_id = new_pipeline_id()
    assert pipeline_id.startswith("pipeline-")
    assert len(pipeline_id) == len("pipeline-") + 12
    assert is_pipeline_id(pipeline_id)


def test_new_pipeline_ids_differ() -> None:
    assert len({new_pipeline_id() for _ in range(200)}) == 200


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pipeline-abc123def456", True),
        ("pipeline-000000000000", True),
        ("pipeline-abc123", False),
        ("pipeline-ABC123DEF456", False),
        ("pipeline-abc123def4567", False),
        ("pipelines-abc123def456", False),
        ("pipeline-abc123def45_", False),
        ("", False),
    ],
)
def test_is_pipeline_id(text: str, expected: bool) -> None:
    assert is_pipeline_id(text) is expected
