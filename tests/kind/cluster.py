"""The kind cluster, driven through kubectl: its Kafka (produce, consume, topics) and its objects.

Kafka is reached inside the cluster (`kubectl exec` into the broker's pod, with Kafka's own
console tools), so the suite needs no port mapping and no Kafka client on the machine.
"""

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

KAFKA_NAMESPACE = "kafka"
KAFKA_POD = "kafka-0"
KAFKA_BIN = "/opt/kafka/bin"
TRIGGER_NAMESPACE = "pipeline-events-triggers"


@dataclass(frozen=True)
class Cluster:
    """A kind cluster by name; `kubectl` is the command that talks to it."""

    name: str

    @classmethod
    def from_environment(cls) -> "Cluster":
        """The cluster `scripts/kind-setup.sh` made (`$KIND_CLUSTER`, default pipeline-events)."""
        return cls(name=os.environ.get("KIND_CLUSTER", "pipeline-events"))

    @property
    def kubectl(self) -> list[str]:
        """kubectl, aimed at this cluster's context."""
        return ["kubectl", "--context", f"kind-{self.name}"]

    def run(self, *args: str, stdin: str | None = None, timeout: float = 120.0) -> str:
        """Run kubectl with `args`; its output.

        Raises:
            AssertionError: kubectl failed (its error output is quoted).
        """
        completed = subprocess.run(
            [*self.kubectl, *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if completed.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed:\n{completed.stderr}")
        return completed.stdout

    def kafka(self, tool: str, *args: str, stdin: str | None = None, timeout: float = 120.0) -> str:
        """Run one of Kafka's console tools in the broker's pod."""
        return self.run(
            "exec", "-i", "-n", KAFKA_NAMESPACE, KAFKA_POD, "--",
            f"{KAFKA_BIN}/{tool}", "--bootstrap-server", "localhost:9092", *args,
            stdin=stdin, timeout=timeout,
        )  # fmt: skip

    def create_topic(self, topic: str) -> None:
        """Create `topic` (one partition) unless it exists."""
        self.kafka("kafka-topics.sh", "--create", "--if-not-exists", "--topic", topic,
                   "--partitions", "1", "--replication-factor", "1")  # fmt: skip

    def produce(self, topic: str, values: Iterable[dict[str, Any]]) -> None:
        """Produce one JSON record per value to `topic`."""
        lines = "".join(json.dumps(value) + "\n" for value in values)
        self.kafka("kafka-console-producer.sh", "--topic", topic, stdin=lines)

    def consume_all(self, topic: str, *, wait_ms: int = 10_000) -> list[dict[str, Any]]:
        """Every record of `topic` from the beginning, as JSON (waits `wait_ms` for stragglers)."""
        output = self.kafka(
            "kafka-console-consumer.sh", "--topic", topic, "--from-beginning",
            "--timeout-ms", str(wait_ms),
            timeout=wait_ms / 1000 + 120,
        )  # fmt: skip
        return [json.loads(line) for line in output.splitlines() if line.startswith("{")]

    def trigger_objects(self, pipeline_label: str) -> list[str]:
        """The Knative Services, KafkaSources and KafkaSinks of one pipeline, by name."""
        output = self.run(
            "get", "services.serving.knative.dev,kafkasources,kafkasinks",
            "-n", TRIGGER_NAMESPACE, "-l", f"pipeline-events.dev/pipeline={pipeline_label}",
            "-o", "name",
        )  # fmt: skip
        return output.split()


def eventually(
    check: Callable[[], T | None], *, timeout: float, interval: float = 3.0, what: str
) -> T:
    """Poll `check` until it returns something other than None; fail saying `what` after `timeout`.

    A real cluster is asynchronous: rollouts, consumer groups and garbage collection take their
    time, so the suite waits for outcomes rather than sleeping a fixed time.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result is not None:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(interval)
