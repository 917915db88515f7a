"""The metadata every object of a pipeline's trigger carries: name, labels, annotations, owner.

Labels select (sanitized values: tenant ids may be emails or URLs); annotations carry the raw
pipeline and tenant ids. The KafkaSource and the dead-letter KafkaSink are owned by the
Service (`controller`, `blockOwnerDeletion`), so deleting the Service garbage-collects them and
nothing is orphaned; :func:`owner_of` reads that owner back from the created Service.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from events_api.triggers.knative import kinds, labels
from events_api.triggers.knative.settings import KnativeSettings
from pipeline_models import PipelineVersion, TenantId, label_value, service_name


@dataclass(frozen=True, slots=True)
class ServiceOwner:
    """The created Knative Service that owns a pipeline's KafkaSource and KafkaSink."""

    name: str
    uid: str


def owner_of(service: Mapping[str, Any]) -> ServiceOwner:
    """The owner reference target for a Service as the API server returned it.

    Raises:
        ValueError: the object is not a Knative Service, or has no name or uid yet.
    """
    kind = (service.get("apiVersion"), service.get("kind"))
    if kind != (kinds.SERVICE.api_version, kinds.SERVICE.kind):
        raise ValueError(f"a {kind[1]} cannot own a trigger's objects, only a Service")
    metadata = service.get("metadata") or {}
    name, uid = metadata.get("name"), metadata.get("uid")
    if not isinstance(name, str) or not isinstance(uid, str) or not name or not uid:
        raise ValueError("the Service has no name or uid: pass the object the API server returned")
    return ServiceOwner(name=name, uid=uid)


def object_name(version: PipelineVersion) -> str:
    """The name of the pipeline's Service and KafkaSource."""
    return service_name(version.pipeline_id)


def pipeline_labels(version: PipelineVersion) -> dict[str, str]:
    """The labels naming the pipeline and version (also on the revision template)."""
    return {
        labels.PIPELINE_LABEL: label_value(version.pipeline_id),
        labels.VERSION_LABEL: str(version.version),
    }


def object_metadata(
    version: PipelineVersion,
    *,
    name: str,
    tenant: TenantId,
    settings: KnativeSettings,
    extra_labels: dict[str, str] | None = None,
    owner: ServiceOwner | None = None,
) -> dict[str, Any]:
    """`metadata` of one of the pipeline's objects: managed-by, ids, tenant, owner."""
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": settings.namespace,
        "labels": {
            labels.MANAGED_BY: labels.MANAGED_BY_VALUE,
            labels.PART_OF: labels.MANAGED_BY_VALUE,
            **pipeline_labels(version),
            labels.TENANT_LABEL: label_value(tenant),
            **(extra_labels or {}),
        },
        "annotations": {
            labels.PIPELINE_ANNOTATION: version.pipeline_id,
            labels.TENANT_ANNOTATION: tenant,
        },
    }
    if owner is not None:
        metadata["ownerReferences"] = [
            {
                "apiVersion": kinds.SERVICE.api_version,
                "kind": kinds.SERVICE.kind,
                "name": owner.name,
                "uid": owner.uid,
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    return metadata


def service_ref(owner: ServiceOwner, *, settings: KnativeSettings) -> dict[str, str]:
    """A KReference to the Service (the KafkaSource's sink)."""
    return {
        "apiVersion": kinds.SERVICE.api_version,
        "kind": kinds.SERVICE.kind,
        "name": owner.name,
        "namespace": settings.namespace,
    }
