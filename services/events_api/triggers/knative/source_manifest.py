"""The KafkaSource (`sources.knative.dev`) that feeds a pipeline's runner, built purely.

What it honours (KNATIVE.md, DESIGN.md "KafkaSource"):

* `topics` is the version's `options.event`; without one there is nothing to subscribe to
  (:class:`NoEventOption`, the documented 500);
* `consumerGroup` depends only on namespace and pipeline id: it is immutable on the source and
  keys the committed offsets, so a new version resumes where the previous one stopped;
* `ordering`, `initialOffset` and the key type (a label, not a spec field) come from the
  options and are always written, so the object says what it does;
* `delivery` always carries an explicit `retry` (a delivery block without `retry`, `timeout` or
  `deadLetterSink` means *no retries*), the backoff, and a `timeout` no longer than the
  revision's `timeoutSeconds` (the source's own 600 s default would outlive Knative's 300 s);
  durations are ISO-8601 to the tenth of a second, as Knative parses them;
* the dead-letter sink is the pipeline's KafkaSink for a topic, the URI for a URI, and absent
  otherwise (records whose retries are exhausted are then dropped, their offsets committed);
* TLS and SASL material are `secretKeyRef`s to the operator's Secrets, never values;
* the source is owned by the Service and sinks into it.
"""

from typing import Any, Final

from events_api.triggers.knative import kinds, labels
from events_api.triggers.knative.durations import iso8601_duration, parse_iso8601_duration
from events_api.triggers.knative.manifest_errors import InconsistentTimeouts, NoEventOption
from events_api.triggers.knative.object_metadata import (
    ServiceOwner,
    object_metadata,
    object_name,
    service_ref,
)
from events_api.triggers.knative.runner_env import (
    SASL_PASSWORD_KEY,
    SASL_TYPE_KEY,
    SASL_USER_KEY,
    TLS_CA_KEY,
    TLS_CERT_KEY,
    TLS_KEY_KEY,
)
from events_api.triggers.knative.settings import KnativeSettings
from events_api.triggers.knative.sink_manifest import kafka_sink_ref
from pipeline_models import (
    PipelineOptions,
    PipelineVersion,
    TenantId,
    consumer_group,
    delivery_timeout_seconds,
)

CONSUMERS: Final = 1
"""Virtual replicas of the source; pipeline options do not choose it (yet)."""


def build_kafka_source(
    version: PipelineVersion,
    *,
    tenant: TenantId,
    settings: KnativeSettings,
    owner: ServiceOwner,
) -> dict[str, Any]:
    """The KafkaSource delivering `version`'s topic to the Service `owner`.

    Raises:
        NoEventOption: the version has no `options.event`.
        InconsistentTimeouts: the delivery timeout exceeds the request timeout.
        ValueError: `owner` is not this pipeline's Service.
    """
    options = version.spec.options
    if options.event is None:
        raise NoEventOption(
            f"pipeline {version.pipeline_id} version {version.version} has no `options.event` "
            "topic, so no KafkaSource can subscribe to anything: add one in a new version"
        )
    name = object_name(version)
    if owner.name != name:
        raise ValueError(f"the Service {owner.name!r} is not pipeline {version.pipeline_id}'s")
    spec: dict[str, Any] = {
        "bootstrapServers": list(settings.kafka_bootstrap_servers),
        "topics": [options.event],
        "consumerGroup": consumer_group(settings.namespace, version.pipeline_id),
        "initialOffset": options.delivery.initial_offset,
        "ordering": options.delivery.ordering,
        "consumers": CONSUMERS,
    }
    if net := _net(settings):
        spec["net"] = net
    spec["sink"] = {"ref": service_ref(owner, settings=settings)}
    spec["delivery"] = delivery_spec(version, settings=settings)
    kind = kinds.kafka_source(settings.kafka_source_version)
    return {
        "apiVersion": kind.api_version,
        "kind": kind.kind,
        "metadata": object_metadata(
            version,
            name=name,
            tenant=tenant,
            settings=settings,
            extra_labels={labels.KEY_TYPE_LABEL: options.delivery.key_type},
            owner=owner,
        ),
        "spec": spec,
    }


def delivery_spec(version: PipelineVersion, *, settings: KnativeSettings) -> dict[str, Any]:
    """The source's `delivery`: retry, backoff, timeout and dead-letter sink, all explicit.

    Raises:
        InconsistentTimeouts: the delivery timeout exceeds the revision's `timeoutSeconds`.
    """
    options = version.spec.options
    delivery = options.delivery
    spec: dict[str, Any] = {
        "retry": delivery.retry,
        "backoffPolicy": delivery.backoff_policy,
        "backoffDelay": iso8601_duration(delivery.backoff_delay_seconds),
        "timeout": _timeout(options),
    }
    dead_letter = delivery.dead_letter
    if dead_letter is not None and dead_letter.topic is not None:
        spec["deadLetterSink"] = {"ref": kafka_sink_ref(version, settings=settings)}
    elif dead_letter is not None and dead_letter.uri is not None:
        spec["deadLetterSink"] = {"uri": dead_letter.uri}
    return spec


def _timeout(options: PipelineOptions) -> str:
    """The per-attempt delivery timeout, checked against the revision's timeout after rounding."""
    request_timeout = options.timeouts.request_timeout_seconds
    timeout = iso8601_duration(delivery_timeout_seconds(options))
    if parse_iso8601_duration(timeout) > request_timeout:
        raise InconsistentTimeouts(
            f"the delivery timeout ({timeout}) must not exceed the revision's timeoutSeconds "
            f"({request_timeout} s), or Knative cuts the request first: lower "
            "options.delivery.timeout_seconds"
        )
    return timeout


def _net(settings: KnativeSettings) -> dict[str, Any]:
    """`net.tls` / `net.sasl` as references to the operator's Secrets (empty when none)."""
    net: dict[str, Any] = {}
    if secret := settings.kafka_tls_secret:
        net["tls"] = {
            "enable": True,
            "caCert": _secret_key(secret, TLS_CA_KEY),
            "cert": _secret_key(secret, TLS_CERT_KEY),
            "key": _secret_key(secret, TLS_KEY_KEY),
        }
    if secret := settings.kafka_sasl_secret:
        net["sasl"] = {
            "enable": True,
            "user": _secret_key(secret, SASL_USER_KEY),
            "password": _secret_key(secret, SASL_PASSWORD_KEY),
            "type": _secret_key(secret, SASL_TYPE_KEY),
        }
    return net


def _secret_key(secret: str, key: str) -> dict[str, Any]:
    return {"secretKeyRef": {"name": secret, "key": key}}
