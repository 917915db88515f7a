"""The labels and annotations that mark and describe the objects this product manages.

Label values must be short and restricted (tenant ids may be emails or URLs), so labels carry
sanitized values for selection and the annotations carry the raw ids.
"""

from typing import Final

PREFIX: Final = "pipeline-events.dev"
MANAGED_BY: Final = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE: Final = "pipeline-events"
PART_OF: Final = "app.kubernetes.io/part-of"

PIPELINE_LABEL: Final = f"{PREFIX}/pipeline"
VERSION_LABEL: Final = f"{PREFIX}/version"
TENANT_LABEL: Final = f"{PREFIX}/tenant"

PIPELINE_ANNOTATION: Final = f"{PREFIX}/pipeline-id"
TENANT_ANNOTATION: Final = f"{PREFIX}/tenant"
# Changes on every start, so each start rolls out a fresh revision even for the same version.
STARTED_AT_ANNOTATION: Final = f"{PREFIX}/started-at"

MANAGED_SELECTOR: Final = f"{MANAGED_BY}={MANAGED_BY_VALUE}"
"""The label selector of every object this product manages (the watches use it)."""

VISIBILITY_LABEL: Final = "networking.knative.dev/visibility"
KEY_TYPE_LABEL: Final = "kafkasources.sources.knative.dev/key-type"
