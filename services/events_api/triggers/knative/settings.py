"""How the Knative backend builds and watches trigger objects: the operator's choices, typed.

Nothing here comes from a tenant: the runner image, its ServiceAccount, resource bounds, Kafka's
address and credentials are the operator's. A tenant's pipeline options may ask for resources
and scaling only within the bounds set here. Read from `PIPELINE_EVENTS_KNATIVE_*` variables.
"""

from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec

from events_api.settings import SettingsError, load_struct
from pipeline_models import RunnerSettings

ENV_PREFIX = "PIPELINE_EVENTS_KNATIVE_"

Quantity = Annotated[str, msgspec.Meta(pattern=r"^[0-9]+(\.[0-9]+)?([a-zA-Z]{1,2})?$")]


class KnativeSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The Knative trigger backend's settings (`PIPELINE_EVENTS_KNATIVE_<FIELD>`)."""

    # Namespace holding every pipeline's Service, KafkaSource and KafkaSink.
    namespace: str = "pipeline-events-triggers"
    # Image of the pipeline runner that every revision runs.
    runner_image: str = "pipeline-events-runner:latest"
    # ServiceAccount the runner pods run as (its permissions are the operator's decision).
    runner_service_account: str = "pipeline-events-runner"
    # Kafka bootstrap servers for the KafkaSources (and the runner's kafka steps).
    kafka_bootstrap_servers: tuple[str, ...] = ("kafka:9092",)
    # Served KafkaSource API version: v1 since Knative 1.16, v1beta1 before.
    kafka_source_version: Literal["v1", "v1beta1"] = "v1"
    # Secret (in `namespace`) with `ca.crt`, `user.crt`, `user.key` for TLS to Kafka; "" = none.
    kafka_tls_secret: str = ""
    # Secret (in `namespace`) with `user`, `password`, `saslType` for SASL to Kafka; "" = none.
    kafka_sasl_secret: str = ""
    # Secret (in `namespace`) a dead-letter KafkaSink authenticates with, in KafkaSink's own
    # format (`protocol`, and as needed `sasl.mechanism`, `user`, `password`, `ca.crt`,
    # `user.crt`, `user.key`); "" = none. Required for dead-letter topics when the two above
    # are set: a KafkaSink reads one Secret of another shape than a KafkaSource's references.
    kafka_sink_auth_secret: str = ""
    # Default resources of a runner container, and the most a pipeline's options may request.
    cpu_request: Quantity = "100m"
    memory_request: Quantity = "128Mi"
    cpu_limit: Quantity = "1"
    memory_limit: Quantity = "512Mi"
    max_cpu_request: Quantity = "2"
    max_memory_request: Quantity = "2Gi"
    # Upper bound on a pipeline's max_scale (0 = unlimited is then capped to this).
    max_scale_limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 50
    # Seconds a watch request lasts on the server before it is renewed.
    watch_timeout_seconds: Annotated[int, msgspec.Meta(ge=10, le=3600)] = 290
    # A watch silent this long is presumed dead and reconnected (bookmarks come about each minute).
    watch_inactivity_seconds: Annotated[float, msgspec.Meta(ge=5)] = 75.0
    # Cap of the jittered exponential backoff between watch reconnections.
    watch_backoff_max_seconds: Annotated[float, msgspec.Meta(gt=0)] = 30.0
    # Objects per page of a list.
    list_page_size: Annotated[int, msgspec.Meta(ge=1, le=5000)] = 500
    # Timeout of one Kubernetes API call (not watches).
    request_timeout_seconds: Annotated[float, msgspec.Meta(gt=0)] = 10.0
    # What every runner revision is told (Kafka for kafka steps, limits, egress rules).
    runner: RunnerSettings = msgspec.field(default_factory=RunnerSettings)


def load_knative_settings(environ: Mapping[str, str] | None = None) -> KnativeSettings:
    """The backend's settings from `PIPELINE_EVENTS_KNATIVE_*` variables.

    `PIPELINE_EVENTS_KNATIVE_RUNNER` takes the runner settings as JSON.

    Raises:
        SettingsError: a variable is malformed.
    """
    settings = load_struct(KnativeSettings, ENV_PREFIX, environ)
    if settings.runner.egress.allow_loopback:
        # In a pod, loopback reaches the pod's own sidecars (queue-proxy, a mesh proxy).
        raise SettingsError(
            f"{ENV_PREFIX}RUNNER: egress.allow_loopback is for runners on a developer's machine "
            "(the local backend); remove it, runners in a cluster must not call loopback"
        )
    return settings
