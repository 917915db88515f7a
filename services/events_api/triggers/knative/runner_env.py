"""The runner container's environment: the runner contract, plus Kafka credentials by reference.

The pipeline version and the runner settings travel as the two JSON variables of
:mod:`pipeline_models.contract`. Kafka credentials never do: when the settings name a SASL or a
TLS Secret, the container gets

* SASL: `PIPELINE_EVENTS_KAFKA_SASL_USERNAME` / `…_PASSWORD` from the Secret's `user` and
  `password` keys (`valueFrom.secretKeyRef`);
* TLS: the Secret mounted read-only at :data:`KAFKA_TLS_MOUNT_PATH`, and
  `PIPELINE_EVENTS_KAFKA_SSL_{CA,CERT,KEY}_FILE` holding the paths of `ca.crt`, `user.crt` and
  `user.key` in it;

and the runner settings it is handed point at those variables (`settings.runner.kafka`'s
`*_env` fields; a name the operator chose is kept). When the operator left the runner's Kafka
cluster empty, the runner's kafka steps use the KafkaSources' cluster: bootstrap servers from
the settings, and a security protocol matching the Secrets configured (SSL, SASL_PLAINTEXT or
SASL_SSL). All of this is derived purely, so the revision is self-contained and reproducible.
"""

from dataclasses import dataclass, field
from typing import Any, Final, Literal

import msgspec

from events_api.triggers.knative.manifest_errors import SettingsConflict
from events_api.triggers.knative.settings import KnativeSettings
from pipeline_models import PipelineVersion, RunnerSettings, encode_runner_env

SASL_USERNAME_ENV: Final = "PIPELINE_EVENTS_KAFKA_SASL_USERNAME"
SASL_PASSWORD_ENV: Final = "PIPELINE_EVENTS_KAFKA_SASL_PASSWORD"  # noqa: S105 - a variable name
SSL_CA_FILE_ENV: Final = "PIPELINE_EVENTS_KAFKA_SSL_CA_FILE"
SSL_CERT_FILE_ENV: Final = "PIPELINE_EVENTS_KAFKA_SSL_CERT_FILE"
SSL_KEY_FILE_ENV: Final = "PIPELINE_EVENTS_KAFKA_SSL_KEY_FILE"

KAFKA_TLS_VOLUME: Final = "kafka-tls"
KAFKA_TLS_MOUNT_PATH: Final = "/var/run/secrets/pipeline-events/kafka-tls"

# The keys of the operator's Secrets (documented on KnativeSettings).
SASL_USER_KEY: Final = "user"
SASL_PASSWORD_KEY: Final = "password"  # noqa: S105 - a key name in the Secret
SASL_TYPE_KEY: Final = "saslType"
TLS_CA_KEY: Final = "ca.crt"
TLS_CERT_KEY: Final = "user.crt"
TLS_KEY_KEY: Final = "user.key"

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]

# Knative sets these itself and refuses them in a template (KNATIVE.md).
_RESERVED_ENV = frozenset({"PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION"})


@dataclass(frozen=True, slots=True)
class RunnerContainerEnv:
    """What the builder puts in the container and pod spec for the runner's environment."""

    env: list[dict[str, Any]]
    """`env` entries sorted by name: plain values and `secretKeyRef`s."""
    volume_mounts: list[dict[str, Any]] = field(default_factory=list)
    """The container's `volumeMounts` (the TLS Secret, when configured)."""
    volumes: list[dict[str, Any]] = field(default_factory=list)
    """The pod's `volumes` (the TLS Secret, when configured)."""


def runner_settings_for(settings: KnativeSettings) -> RunnerSettings:
    """The runner settings a revision is handed: the operator's, with the Kafka wiring filled in."""
    kafka = settings.runner.kafka
    changes: dict[str, Any] = {}
    if settings.kafka_sasl_secret:
        changes["sasl_username_env"] = kafka.sasl_username_env or SASL_USERNAME_ENV
        changes["sasl_password_env"] = kafka.sasl_password_env or SASL_PASSWORD_ENV
    if settings.kafka_tls_secret:
        changes["ssl_ca_file_env"] = kafka.ssl_ca_file_env or SSL_CA_FILE_ENV
        changes["ssl_cert_file_env"] = kafka.ssl_cert_file_env or SSL_CERT_FILE_ENV
        changes["ssl_key_file_env"] = kafka.ssl_key_file_env or SSL_KEY_FILE_ENV
    if not kafka.bootstrap_servers:
        changes["bootstrap_servers"] = settings.kafka_bootstrap_servers
        if kafka.security_protocol == "PLAINTEXT":
            changes["security_protocol"] = _protocol(settings)
    if not changes:
        return settings.runner
    return msgspec.structs.replace(settings.runner, kafka=msgspec.structs.replace(kafka, **changes))


def runner_container_env(
    version: PipelineVersion, *, settings: KnativeSettings
) -> RunnerContainerEnv:
    """The runner container's environment, mounts and volumes for `version`.

    Raises:
        ContractError: a contract variable would be too long for Linux.
        SettingsConflict: two variables share a name, or one is reserved by Knative.
    """
    runner = runner_settings_for(settings)
    values = encode_runner_env(pipeline=version, settings=runner)
    env: list[dict[str, Any]] = [{"name": name, "value": value} for name, value in values.items()]
    volume_mounts: list[dict[str, Any]] = []
    volumes: list[dict[str, Any]] = []
    kafka = runner.kafka
    if settings.kafka_sasl_secret:
        env += [
            _secret_env(
                kafka.sasl_username_env or SASL_USERNAME_ENV,
                settings.kafka_sasl_secret,
                SASL_USER_KEY,
            ),
            _secret_env(
                kafka.sasl_password_env or SASL_PASSWORD_ENV,
                settings.kafka_sasl_secret,
                SASL_PASSWORD_KEY,
            ),
        ]
    if settings.kafka_tls_secret:
        env += [
            _path_env(kafka.ssl_ca_file_env or SSL_CA_FILE_ENV, TLS_CA_KEY),
            _path_env(kafka.ssl_cert_file_env or SSL_CERT_FILE_ENV, TLS_CERT_KEY),
            _path_env(kafka.ssl_key_file_env or SSL_KEY_FILE_ENV, TLS_KEY_KEY),
        ]
        volume_mounts.append(
            {"name": KAFKA_TLS_VOLUME, "mountPath": KAFKA_TLS_MOUNT_PATH, "readOnly": True}
        )
        volumes.append(
            {"name": KAFKA_TLS_VOLUME, "secret": {"secretName": settings.kafka_tls_secret}}
        )
    _check_names(env)
    return RunnerContainerEnv(
        env=sorted(env, key=lambda entry: str(entry["name"])),
        volume_mounts=volume_mounts,
        volumes=volumes,
    )


def _protocol(settings: KnativeSettings) -> SecurityProtocol:
    tls, sasl = bool(settings.kafka_tls_secret), bool(settings.kafka_sasl_secret)
    if tls and sasl:
        return "SASL_SSL"
    if sasl:
        return "SASL_PLAINTEXT"
    if tls:
        return "SSL"
    return "PLAINTEXT"


def _secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _path_env(name: str, key: str) -> dict[str, Any]:
    return {"name": name, "value": f"{KAFKA_TLS_MOUNT_PATH}/{key}"}


def _check_names(env: list[dict[str, Any]]) -> None:
    names = [str(entry["name"]) for entry in env]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise SettingsConflict(
            f"runner environment variables {duplicates} are set twice: give the runner's Kafka "
            "settings (`*_env`) names of their own"
        )
    if reserved := sorted(_RESERVED_ENV.intersection(names)):
        raise SettingsConflict(
            f"runner environment variables {reserved} are reserved by Knative: choose other "
            "names in the runner's Kafka settings (`*_env`)"
        )
