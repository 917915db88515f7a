"""Kafka topic names and Kubernetes quantities."""

import pytest

from pipeline_models import is_kafka_topic, kafka_topic_problem
from pipeline_models.quantities import quantity_problem


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("orders", True),
        ("orders.v1", True),
        ("a_b-C.9", True),
        ("...", True),
        ("t" * 249, True),
        ("t" * 250, False),
        ("", False),
        (".", False),
        ("..", False),
        ("a b", False),
        ("a/b", False),
        ("ä", False),
        ("a:b", False),
    ],
)
def test_kafka_topic_names(name: str, valid: bool) -> None:
    assert is_kafka_topic(name) is valid
    assert (kafka_topic_problem(name) is None) is valid


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("1", True),
        ("0.5", True),
        ("500m", True),
        ("256Mi", True),
        ("1Gi", True),
        ("1e3", True),
        ("1.5G", True),
        (".5", True),
        ("+1", True),
        ("-1", False),
        ("256MB", False),
        ("half", False),
        ("", False),
        ("1 Gi", False),
        ("Mi", False),
    ],
)
def test_quantities(text: str, valid: bool) -> None:
    assert (quantity_problem(text) is None) is valid
