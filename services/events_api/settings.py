"""The API's configuration, read once from the environment into one frozen, typed Struct.

Each field is documented in the README's settings table; a bad value stops start-up with a message
naming the variable.
"""

import os
from collections.abc import Mapping

import msgspec

ENV_PREFIX = "PIPELINE_EVENTS_"


class SettingsError(Exception):
    """A setting in the environment is malformed; the message names the variable."""


class ApiSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Settings of the events API (environment variables `PIPELINE_EVENTS_<FIELD>`)."""

    # Interface and port the HTTP server binds.
    host: str = "127.0.0.1"
    port: int = 8000
    # Path prefix the ingress serves the API under (e.g. "/events"); "" when served at the root.
    root_path: str = ""
    # Log level of the service's own loggers and uvicorn's.
    log_level: str = "info"
    # Seconds to drain in-flight requests after SIGTERM; keep below the pod's grace period.
    shutdown_grace_seconds: float = 20.0


def load_settings(environ: Mapping[str, str] | None = None) -> ApiSettings:
    """Build the settings from `PIPELINE_EVENTS_*` variables; unset ones keep their defaults.

    Raises:
        SettingsError: a variable's value does not fit its field's type.
    """
    env = os.environ if environ is None else environ
    raw: dict[str, str] = {}
    for field in msgspec.structs.fields(ApiSettings):
        name = ENV_PREFIX + field.name.upper()
        if name in env:
            raw[field.name] = env[name]
    try:
        return msgspec.convert(raw, ApiSettings, strict=False)
    except msgspec.ValidationError as error:
        # msgspec names the field as `$.port`; point at the variable instead.
        raise SettingsError(f"invalid setting ({ENV_PREFIX}<FIELD>): {error}") from error
