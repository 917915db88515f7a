"""Where the Knative kinds this backend manages live in the API (group, version, plural)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """A custom resource's coordinates for the custom-objects API."""

    group: str
    version: str
    plural: str
    kind: str

    @property
    def api_version(self) -> str:
        """`group/version`, as manifests spell it."""
        return f"{self.group}/{self.version}"


SERVICE = Kind("serving.knative.dev", "v1", "services", "Service")
KAFKA_SINK = Kind("eventing.knative.dev", "v1alpha1", "kafkasinks", "KafkaSink")


def kafka_source(version: str = "v1") -> Kind:
    """The KafkaSource kind at `version` (`v1` since Knative 1.16; `v1beta1` before)."""
    return Kind("sources.knative.dev", version, "kafkasources", "KafkaSource")
