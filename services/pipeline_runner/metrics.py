"""The runner's Prometheus metrics, in a registry of its own (one per app, so tests stay apart).

Served on ``GET /metrics`` in Prometheus' text format; a Knative Service may expose it to a
scraper through the queue-proxy's metrics or a PodMonitor.

Counting happens on the per-event path, so it is plain integer arithmetic in dicts and a list
(no locks: the event loop is one thread), and a collector turns the counts into metric families
only when scraped. prometheus_client's own ``Counter``/``Histogram`` take a lock and look up
label children on every update, which cost more than the counting itself.
"""

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Final

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

CONTENT_TYPE = CONTENT_TYPE_LATEST
DURATION_BUCKETS: Final = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
)  # fmt: skip
"""Upper bounds (seconds) of the event duration histogram; +Inf is added."""


class RunnerMetrics(Collector):
    """Counts of events and steps, and event durations, exposed as Prometheus metrics:

    * ``pipeline_runner_events_total{status, outcome}`` — events answered, by HTTP status and
      outcome or error code;
    * ``pipeline_runner_steps_total{step, type, status}`` — steps finished (succeeded, failed,
      skipped, cancelled);
    * ``pipeline_runner_event_duration_seconds`` — time from receiving an event to answering;
    * ``pipeline_runner_events_in_flight`` — events being processed now (read when scraped).
    """

    def __init__(self, *, in_flight: Callable[[], float] = lambda: 0.0) -> None:
        """Create the metrics; ``in_flight`` tells the events being processed when scraped."""
        self._in_flight = in_flight
        self._events: defaultdict[tuple[int, str], int] = defaultdict(int)
        self._steps: defaultdict[tuple[str, str, str], int] = defaultdict(int)
        # One count per bucket (not cumulative) and one for +Inf, at the end.
        self._durations = [0] * (len(DURATION_BUCKETS) + 1)
        self._duration_sum = 0.0
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(self)

    def count_event(self, status: int, outcome: str, *, seconds: float) -> None:
        """Count one answered event and observe how long it took."""
        self._events[status, outcome] += 1
        self._durations[bisect.bisect_left(DURATION_BUCKETS, seconds)] += 1
        self._duration_sum += seconds

    def count_step(self, step_id: str, step_type: str, status: str) -> None:
        """Count one finished step."""
        self._steps[step_id, step_type, status] += 1

    def render(self) -> bytes:
        """The registry in Prometheus' text exposition format."""
        return generate_latest(self.registry)

    def collect(self) -> Iterator[Metric]:
        """The metric families, from the counts as they are now (called when scraped)."""
        events = CounterMetricFamily(
            "pipeline_runner_events",
            "Events answered, by HTTP status and outcome or error code.",
            labels=["status", "outcome"],
        )
        for (status, outcome), count in list(self._events.items()):
            events.add_metric([str(status), outcome], count)
        yield events
        steps = CounterMetricFamily(
            "pipeline_runner_steps",
            "Steps finished, by step id, type and status (succeeded, failed, skipped, cancelled).",
            labels=["step", "type", "status"],
        )
        for labels, count in list(self._steps.items()):
            steps.add_metric(list(labels), count)
        yield steps
        cumulative: list[tuple[str, float]] = []
        total = 0
        for bound, count in zip((*DURATION_BUCKETS, float("inf")), self._durations, strict=True):
            total += count
            cumulative.append(("+Inf" if bound == float("inf") else str(float(bound)), total))
        yield HistogramMetricFamily(
            "pipeline_runner_event_duration_seconds",
            "Time from receiving an event to answering it.",
            buckets=cumulative,
            sum_value=self._duration_sum,
        )
        yield GaugeMetricFamily(
            "pipeline_runner_events_in_flight",
            "Events being processed now.",
            value=self._in_flight(),
        )
