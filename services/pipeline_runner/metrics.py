"""The runner's Prometheus metrics, in a registry of its own (one per app, so tests stay apart).

Served on ``GET /metrics`` in Prometheus' text format; a Knative Service may expose it to a
scraper through the queue-proxy's metrics or a PodMonitor.
"""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST


class RunnerMetrics:
    """Counters and histograms of events and steps."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.events = Counter(
            "pipeline_runner_events",
            "Events answered, by HTTP status and outcome or error code.",
            ["status", "outcome"],
            registry=self.registry,
        )
        self.steps = Counter(
            "pipeline_runner_steps",
            "Steps finished, by step id, type and status (succeeded, failed, skipped, cancelled).",
            ["step", "type", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "pipeline_runner_event_duration_seconds",
            "Time from receiving an event to answering it.",
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
        )
        self.in_flight = Gauge(
            "pipeline_runner_events_in_flight",
            "Events being processed now.",
            registry=self.registry,
        )

    def render(self) -> bytes:
        """The registry in Prometheus' text exposition format."""
        return generate_latest(self.registry)
