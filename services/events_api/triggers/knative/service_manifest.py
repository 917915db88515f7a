"""The pipeline runner's Knative Service (`serving.knative.dev/v1`), built purely.

What it honours (KNATIVE.md, DESIGN.md "Runner service"):

* cluster-local: the `networking.knative.dev/visibility` label keeps it off the external gateway;
* autoscaling annotations on `spec.template.metadata` only (Knative rejects them on the
  Service's own metadata): class KPA, `min-scale`/`max-scale` from the options with `max-scale`
  capped by `settings.max_scale_limit` (the options' 0 = unlimited becomes that cap, and a
  `min-scale` above the cap is lowered to it), `target` when the options set one;
* a `started-at` annotation on the template, so every start rolls out a fresh revision even
  for the same version;
* the revision's `timeoutSeconds` is the options' request timeout, and the runner's deadline
  (from the contract) stays below it;
* image, ServiceAccount and resource bounds come from the settings, never from a tenant; the
  container runs as non-root with a read-only root filesystem and no capabilities;
* readiness is the runner's `/readyz`, which turns 503 while the runner drains on SIGTERM
  (`/healthz` is its liveness endpoint and stays 200 until the process ends).
"""

from datetime import UTC, datetime
from typing import Any, Final

from events_api.triggers.knative import kinds, labels
from events_api.triggers.knative.container_resources import container_resources
from events_api.triggers.knative.manifest_errors import InconsistentTimeouts
from events_api.triggers.knative.object_metadata import (
    object_metadata,
    object_name,
    pipeline_labels,
)
from events_api.triggers.knative.runner_env import runner_container_env, runner_settings_for
from events_api.triggers.knative.settings import KnativeSettings
from pipeline_models import (
    PipelineVersion,
    ScalingOptions,
    TenantId,
    TimeoutOptions,
    pipeline_deadline_seconds,
)

AUTOSCALING_CLASS: Final = "autoscaling.knative.dev/class"
AUTOSCALING_MIN_SCALE: Final = "autoscaling.knative.dev/min-scale"
AUTOSCALING_MAX_SCALE: Final = "autoscaling.knative.dev/max-scale"
AUTOSCALING_TARGET: Final = "autoscaling.knative.dev/target"
KPA_CLASS: Final = "kpa.autoscaling.knative.dev"

CONTAINER_PORT: Final = 8080
PORT_NAME: Final = "http1"
READINESS_PATH: Final = "/readyz"


def build_service(
    version: PipelineVersion,
    *,
    tenant: TenantId,
    settings: KnativeSettings,
    started_at: datetime,
) -> dict[str, Any]:
    """The Knative Service that runs `version` of a pipeline for `tenant`.

    Args:
        version: the pipeline version the revision runs (its spec travels in the env).
        tenant: the pipeline's owner (a label, sanitized, and an annotation, raw).
        settings: the operator's settings (namespace, image, bounds, Kafka secrets).
        started_at: when this start was requested (timezone-aware); a new value makes a new
            revision.

    Raises:
        ValueError: `started_at` is naive.
        ResourceRequestTooLarge, InvalidResourceRequest: the options' resource requests.
        InconsistentTimeouts: the runner's configured deadline is not below the request timeout.
        SettingsConflict: the runner's environment variable names collide.
        ContractError: the pipeline is too large for the runner's environment.
    """
    options = version.spec.options
    request_timeout = options.timeouts.request_timeout_seconds
    _check_runner_deadline(settings, timeouts=options.timeouts)
    runner_env = runner_container_env(version, settings=settings)
    container: dict[str, Any] = {
        "image": settings.runner_image,
        "ports": [{"name": PORT_NAME, "containerPort": CONTAINER_PORT}],
        "env": runner_env.env,
        "resources": container_resources(options.resources, settings=settings),
        "readinessProbe": {"httpGet": {"path": READINESS_PATH}},
        "securityContext": {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
            "readOnlyRootFilesystem": True,
        },
    }
    if runner_env.volume_mounts:
        container["volumeMounts"] = runner_env.volume_mounts
    pod_spec: dict[str, Any] = {
        "containerConcurrency": options.scaling.container_concurrency,
        "timeoutSeconds": request_timeout,
        "serviceAccountName": settings.runner_service_account,
        "containers": [container],
    }
    if runner_env.volumes:
        pod_spec["volumes"] = runner_env.volumes
    return {
        "apiVersion": kinds.SERVICE.api_version,
        "kind": kinds.SERVICE.kind,
        "metadata": object_metadata(
            version,
            name=object_name(version),
            tenant=tenant,
            settings=settings,
            extra_labels={labels.VISIBILITY_LABEL: "cluster-local"},
        ),
        "spec": {
            "template": {
                "metadata": {
                    "labels": pipeline_labels(version),
                    "annotations": {
                        **autoscaling_annotations(options.scaling, settings=settings),
                        labels.STARTED_AT_ANNOTATION: _timestamp(started_at),
                    },
                },
                "spec": pod_spec,
            }
        },
    }


def autoscaling_annotations(
    scaling: ScalingOptions, *, settings: KnativeSettings
) -> dict[str, str]:
    """The revision template's `autoscaling.knative.dev/*` annotations for `scaling`."""
    cap = settings.max_scale_limit
    max_scale = cap if scaling.max_scale == 0 else min(scaling.max_scale, cap)
    annotations = {
        AUTOSCALING_CLASS: KPA_CLASS,
        AUTOSCALING_MIN_SCALE: str(min(scaling.min_scale, max_scale)),
        AUTOSCALING_MAX_SCALE: str(max_scale),
    }
    if scaling.target_concurrency is not None:
        annotations[AUTOSCALING_TARGET] = str(scaling.target_concurrency)
    return annotations


def _check_runner_deadline(settings: KnativeSettings, *, timeouts: TimeoutOptions) -> None:
    """The runner must stop a pipeline before Knative cuts the request, or it cannot answer."""
    request_timeout = timeouts.request_timeout_seconds
    deadline = runner_settings_for(settings).pipeline_deadline_seconds
    if deadline is None:
        deadline = pipeline_deadline_seconds(timeouts)
    if deadline >= request_timeout:
        raise InconsistentTimeouts(
            f"the runner's pipeline_deadline_seconds ({deadline} s) must be below the pipeline's "
            f"request timeout ({request_timeout} s): lower the setting or raise "
            "options.timeouts.request_timeout_seconds"
        )


def _timestamp(started_at: datetime) -> str:
    if started_at.tzinfo is None or started_at.utcoffset() is None:
        raise ValueError("started_at must be timezone-aware, e.g. datetime.now(UTC)")
    return started_at.astimezone(UTC).isoformat()
