"""Options: defaults, derived deadlines and delivery timings."""

import pytest

from pipeline_models import (
    DeliveryOptions,
    PipelineOptions,
    TimeoutOptions,
    delivery_timeout_seconds,
    pipeline_deadline_seconds,
)
from pipeline_models.options import delivery_backoff_total_seconds


def test_defaults_follow_knative() -> None:
    options = PipelineOptions()
    assert options.event is None
    assert options.scaling.min_scale == 0
    assert options.delivery.retry == 10
    assert options.delivery.backoff_policy == "exponential"
    assert options.delivery.backoff_delay_seconds == 0.3
    assert options.delivery.ordering == "ordered"
    assert options.delivery.initial_offset == "latest"
    assert options.timeouts.request_timeout_seconds == 300


@pytest.mark.parametrize(
    ("request_timeout", "deadline"),
    [(300, 290.0), (600, 590.0), (100, 90.0), (10, 9.0), (3, 2.5), (1, 0.5)],
)
def test_pipeline_deadline_leaves_a_margin(request_timeout: int, deadline: float) -> None:
    result = pipeline_deadline_seconds(TimeoutOptions(request_timeout_seconds=request_timeout))
    assert result == pytest.approx(deadline)
    assert 0 < result < request_timeout


def test_delivery_timeout_defaults_to_request_timeout() -> None:
    assert delivery_timeout_seconds(PipelineOptions()) == 300.0
    explicit = PipelineOptions(delivery=DeliveryOptions(timeout_seconds=42.0))
    assert delivery_timeout_seconds(explicit) == 42.0


@pytest.mark.parametrize(
    ("delivery", "total"),
    [
        (DeliveryOptions(), 613.8),  # KNATIVE.md: ~614 s with the defaults
        (DeliveryOptions(retry=0), 0.0),
        (DeliveryOptions(retry=3, backoff_policy="linear", backoff_delay_seconds=1.0), 6.0),
        (DeliveryOptions(retry=2, backoff_delay_seconds=1.0), 6.0),
    ],
)
def test_delivery_backoff_total(delivery: DeliveryOptions, total: float) -> None:
    assert delivery_backoff_total_seconds(delivery) == pytest.approx(total)
