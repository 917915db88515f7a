"""Where the Knative kinds live in the API, and minimal valid objects of each, for tests."""

from typing import Any

from events_api.triggers.knative.kinds import KAFKA_SINK, SERVICE
from events_api.triggers.knative.kinds import kafka_source as source_kind

# The tests write KafkaSources at v1, the version the product uses by default.
KAFKA_SOURCE = source_kind("v1")
KAFKA_SOURCE_FINALIZER = "kafkasources.sources.knative.dev"
__all__ = ["KAFKA_SINK", "KAFKA_SOURCE", "KAFKA_SOURCE_FINALIZER", "SERVICE", "kafka_source"]


def knative_service(name: str, *, image: str = "example.com/runner:1") -> dict[str, Any]:
    """A Knative Service as Knative's webhook would accept it."""
    return {
        "apiVersion": SERVICE.api_version,
        "kind": SERVICE.kind,
        "metadata": {
            "name": name,
            "labels": {"networking.knative.dev/visibility": "cluster-local"},
        },
        "spec": {
            "template": {
                "metadata": {"annotations": {"autoscaling.knative.dev/min-scale": "0"}},
                "spec": {
                    "containerConcurrency": 10,
                    "timeoutSeconds": 300,
                    "containers": [{"image": image, "env": [{"name": "A", "value": "1"}]}],
                },
            }
        },
    }


def kafka_source(
    name: str, *, sink_service: str, owner: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A KafkaSource sinking into a Knative Service, optionally owned by it."""
    metadata: dict[str, Any] = {"name": name}
    if owner is not None:
        metadata["ownerReferences"] = [
            {
                "apiVersion": owner["apiVersion"],
                "kind": owner["kind"],
                "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    return {
        "apiVersion": KAFKA_SOURCE.api_version,
        "kind": KAFKA_SOURCE.kind,
        "metadata": metadata,
        "spec": {
            "bootstrapServers": ["127.0.0.1:9092"],
            "topics": ["orders"],
            "consumerGroup": f"group-{name}",
            "sink": {
                "ref": {"apiVersion": SERVICE.api_version, "kind": "Service", "name": sink_service}
            },
            "delivery": {"retry": 3, "backoffPolicy": "exponential", "backoffDelay": "PT0.3S"},
        },
    }
