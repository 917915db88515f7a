"""The Knative objects of a pipeline's trigger, built purely: the one import for callers.

Three builders, deterministic functions of a pipeline version, its tenant, the operator's
settings (and, for the Service, the start time), returning Kubernetes JSON as plain dicts:

* :func:`build_service` — the runner's Knative Service (`service_manifest`);
* :func:`build_kafka_source` — the KafkaSource feeding it, owned by it (`source_manifest`);
* :func:`build_kafka_sink` — the dead-letter KafkaSink for a dead-letter topic (`sink_manifest`);

plus :func:`patch_for` / :func:`desired_differs` to write only differences to a live object
(`manifest_diff`), :func:`owner_of` to read the created Service back, and the error tree
(`manifest_errors`). Order of use: build and create the Service, take :func:`owner_of` its
answer, then build the sink (if any) and the source with that owner.
"""

from events_api.triggers.knative.durations import iso8601_duration, parse_iso8601_duration
from events_api.triggers.knative.manifest_diff import desired_differs, is_managed_key, patch_for
from events_api.triggers.knative.manifest_errors import (
    InconsistentTimeouts,
    InvalidResourceRequest,
    ManifestError,
    NoEventOption,
    ResourceRequestTooLarge,
    SettingsConflict,
)
from events_api.triggers.knative.object_metadata import ServiceOwner, owner_of
from events_api.triggers.knative.runner_env import runner_settings_for
from events_api.triggers.knative.service_manifest import build_service
from events_api.triggers.knative.sink_manifest import build_kafka_sink, kafka_sink_name
from events_api.triggers.knative.source_manifest import build_kafka_source

__all__ = [
    "InconsistentTimeouts",
    "InvalidResourceRequest",
    "ManifestError",
    "NoEventOption",
    "ResourceRequestTooLarge",
    "ServiceOwner",
    "SettingsConflict",
    "build_kafka_sink",
    "build_kafka_source",
    "build_service",
    "desired_differs",
    "is_managed_key",
    "iso8601_duration",
    "kafka_sink_name",
    "owner_of",
    "parse_iso8601_duration",
    "patch_for",
    "runner_settings_for",
]
