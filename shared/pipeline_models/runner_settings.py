"""The runner's settings: what the events API's operator decides, not the tenant.

They travel to every runner revision in ``PIPELINE_EVENTS_RUNNER_SETTINGS`` (see
:mod:`pipeline_models.contract`). Secrets never travel in them: Kafka credentials and TLS
material reach the runner through Kubernetes ``secretKeyRef`` environment variables and secret
volumes, and these settings only carry the *names* of the environment variables to read.
Decoding skips unknown fields, so a newer API can add settings an older runner ignores.
"""

from typing import Annotated, Literal

import msgspec

from pipeline_models.egress import EgressPolicy

EnvName = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128)]
"""The name of an environment variable."""

MAX_BODY_BYTES_LIMIT = 64 * 1024 * 1024


class KafkaSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The Kafka cluster ``kafka`` steps produce to."""

    bootstrap_servers: tuple[str, ...] = ()
    """``host:port`` pairs; empty means kafka steps fail permanently (no cluster configured)."""
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    """Kafka's ``security.protocol``."""
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    """SASL mechanism, for the SASL protocols."""
    sasl_username_env: EnvName | None = None
    """Name of the env variable holding the SASL user (from a secretKeyRef)."""
    sasl_password_env: EnvName | None = None
    """Name of the env variable holding the SASL password (from a secretKeyRef)."""
    ssl_ca_file_env: EnvName | None = None
    """Name of the env variable holding the path of the CA bundle (mounted from a secret)."""
    ssl_cert_file_env: EnvName | None = None
    """Name of the env variable holding the path of the client certificate."""
    ssl_key_file_env: EnvName | None = None
    """Name of the env variable holding the path of the client key."""
    client_id: str = "pipeline-events-runner"
    """Kafka client id, visible in broker logs and quotas."""
    produce_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=600)] = 30.0
    """How long one produce may wait for the broker's acknowledgement."""


class DedupSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Dropping redelivered events (Knative delivers at least once; key: ``source`` + ``id``)."""

    window_seconds: Annotated[float, msgspec.Meta(ge=0, le=86400)] = 600.0
    """How long a processed event is remembered; 0 disables deduplication."""
    max_entries: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 10_000
    """Upper bound of remembered events per pod (oldest forgotten first)."""


class RunnerSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a runner needs besides the pipeline itself."""

    kafka: KafkaSettings = msgspec.field(default_factory=KafkaSettings)
    """Cluster for kafka steps."""
    max_concurrency: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 100
    """Steps running at once in one pod, across all in-flight events."""
    pipeline_deadline_seconds: Annotated[float, msgspec.Meta(gt=0, le=600)] | None = None
    """Deadline of one event; None derives it from the pipeline's request timeout
    (``pipeline_deadline_seconds`` in :mod:`pipeline_models.options`). Must stay below it."""
    dedup: DedupSettings = msgspec.field(default_factory=DedupSettings)
    """Redelivery deduplication."""
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1, le=MAX_BODY_BYTES_LIMIT)] = 1_048_576
    """Largest event body accepted (Kafka's default record limit is about 1 MiB)."""
    egress: EgressPolicy = msgspec.field(default_factory=EgressPolicy)
    """Where http steps may connect."""
