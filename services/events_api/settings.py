"""The API's configuration, read once from the environment into frozen, typed Structs.

Each field is documented in the README's settings table; a bad value stops start-up with a message
naming the variable. Authentication settings live in :mod:`events_api.auth.settings` and read
the `PIPELINE_EVENTS_AUTH_*` variables.
"""

import os
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar

import msgspec

ENV_PREFIX = "PIPELINE_EVENTS_"

T = TypeVar("T", bound=msgspec.Struct)


class SettingsError(Exception):
    """A setting in the environment is malformed; the message names the variable."""


class ApiSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Settings of the events API (environment variables `PIPELINE_EVENTS_<FIELD>`)."""

    # Interface and port the HTTP server binds.
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8000
    # Path prefix the ingress serves the API under (e.g. "/events"); "" when served at the root.
    root_path: str = ""
    # Comma-separated proxy addresses whose X-Forwarded-* headers are trusted ("*" for any).
    forwarded_allow_ips: str = "127.0.0.1"
    # Log level of the service's own loggers and uvicorn's.
    log_level: str = "info"
    # Seconds to drain in-flight requests after SIGTERM; keep below the pod's grace period.
    shutdown_grace_seconds: Annotated[float, msgspec.Meta(ge=0)] = 20.0
    # Largest request body accepted, in bytes (413 beyond).
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 1024 * 1024
    # PostgreSQL DSN of the production store; when empty, SQLite at `sqlite_path` (dev only).
    database_url: str = ""
    # The SQLite file used when `database_url` is empty.
    sqlite_path: str = "pipeline-events.sqlite3"
    # What runs pipelines: `knative` (production), `local` (dev mode: runner processes fed by
    # local Kafka consumers, settings `PIPELINE_EVENTS_LOCAL_*`), or `none` (pipelines only;
    # the events endpoints answer 503).
    trigger_backend: Literal["knative", "local", "none"] = "knative"
    # Kubeconfig file for the Knative backend; empty = the pod's in-cluster ServiceAccount.
    kubeconfig: str = ""
    # Longest `?wait=` a status GET may long-poll, in seconds.
    status_wait_max_seconds: Annotated[float, msgspec.Meta(ge=0, le=300)] = 60.0


def load_struct(cls: type[T], prefix: str, environ: Mapping[str, str] | None = None) -> T:
    """Build `cls` from `<prefix><FIELD>` variables; unset ones keep their defaults.

    Tuples are read as comma-separated lists, nested Structs as JSON.

    Raises:
        SettingsError: a variable's value does not fit its field's type or bounds.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for field in msgspec.structs.fields(cls):
        name = prefix + field.name.upper()
        if name not in env:
            continue
        value: Any = env[name]
        if _is_sequence(field.type):
            value = [item.strip() for item in value.split(",") if item.strip()]
        try:
            if _is_struct(field.type):
                # Nested settings travel as one JSON document.
                values[field.name] = msgspec.json.decode(value, type=field.type, strict=False)
            else:
                values[field.name] = msgspec.convert(value, field.type, strict=False)
        except (msgspec.ValidationError, msgspec.DecodeError) as error:
            raise SettingsError(f"invalid setting {name}: {error}") from error
    try:
        return cls(**values)
    except (TypeError, ValueError) as error:
        raise SettingsError(f"invalid settings ({prefix}*): {error}") from error


def _is_struct(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, msgspec.Struct)


def _is_sequence(annotation: Any) -> bool:
    # Annotated[...] wraps the real type; look through it.
    inner = getattr(annotation, "__origin__", None)
    if inner is not None and hasattr(annotation, "__metadata__"):
        return _is_sequence(inner)
    return inner in (tuple, list)


def load_settings(environ: Mapping[str, str] | None = None) -> ApiSettings:
    """The API's settings from `PIPELINE_EVENTS_*` variables.

    Raises:
        SettingsError: a variable is malformed.
    """
    return load_struct(ApiSettings, ENV_PREFIX, environ)
