"""The dead-letter KafkaSink (`eventing.knative.dev/v1alpha1`) of a pipeline, built purely.

When a pipeline's `options.delivery.dead_letter` names a Kafka topic, its KafkaSource's
`deadLetterSink` points at a KafkaSink named `<service>-dlq` that writes to that topic. The sink
is owned by the Service, like the source, so stopping the trigger removes it too. Events are
written in binary content mode (`ce_*` Kafka headers, the body as the record value; Knative's
default, written out). A KafkaSink reads its credentials from one Secret in its own format
(`spec.auth.secret.ref.name`), named by `settings.kafka_sink_auth_secret`.
"""

from typing import Any, Final

from events_api.triggers.knative import kinds
from events_api.triggers.knative.manifest_errors import SettingsConflict
from events_api.triggers.knative.object_metadata import ServiceOwner, object_metadata
from events_api.triggers.knative.settings import KnativeSettings
from pipeline_models import PipelineVersion, TenantId, service_name

DEAD_LETTER_SUFFIX: Final = "-dlq"
CONTENT_MODE: Final = "binary"


def kafka_sink_name(version: PipelineVersion) -> str:
    """The name of the pipeline's dead-letter KafkaSink: `<service name>-dlq`."""
    return service_name(version.pipeline_id) + DEAD_LETTER_SUFFIX


def build_kafka_sink(
    version: PipelineVersion,
    *,
    tenant: TenantId,
    settings: KnativeSettings,
    owner: ServiceOwner,
) -> dict[str, Any] | None:
    """The KafkaSink for the version's dead-letter topic, or None without one.

    Raises:
        SettingsConflict: Kafka needs TLS or SASL (the settings name Secrets for the sources)
            but no `kafka_sink_auth_secret` says how the sink authenticates.
    """
    dead_letter = version.spec.options.delivery.dead_letter
    if dead_letter is None or dead_letter.topic is None:
        return None
    spec: dict[str, Any] = {
        "topic": dead_letter.topic,
        "bootstrapServers": list(settings.kafka_bootstrap_servers),
        "contentMode": CONTENT_MODE,
    }
    if settings.kafka_sink_auth_secret:
        spec["auth"] = {"secret": {"ref": {"name": settings.kafka_sink_auth_secret}}}
    elif settings.kafka_tls_secret or settings.kafka_sasl_secret:
        raise SettingsConflict(
            "Kafka is reached with TLS or SASL (kafka_tls_secret / kafka_sasl_secret) but "
            "kafka_sink_auth_secret is empty, so a dead-letter KafkaSink could not "
            "authenticate: set kafka_sink_auth_secret to a Secret in KafkaSink's format"
        )
    return {
        "apiVersion": kinds.KAFKA_SINK.api_version,
        "kind": kinds.KAFKA_SINK.kind,
        "metadata": object_metadata(
            version, name=kafka_sink_name(version), tenant=tenant, settings=settings, owner=owner
        ),
        "spec": spec,
    }


def kafka_sink_ref(version: PipelineVersion, *, settings: KnativeSettings) -> dict[str, str]:
    """A KReference to the dead-letter KafkaSink (the KafkaSource's `deadLetterSink.ref`)."""
    return {
        "apiVersion": kinds.KAFKA_SINK.api_version,
        "kind": kinds.KAFKA_SINK.kind,
        "name": kafka_sink_name(version),
        "namespace": settings.namespace,
    }
