"""Kubernetes-safe names derived from pipeline ids and tenant ids.

* :func:`service_name` — the Knative Service of a pipeline. A DNS-1035 label, at most
  :data:`MAX_SERVICE_NAME_LENGTH` = 40 characters although Kubernetes allows 63: Knative derives
  revisions (``<name>-00001``), then ``-private`` services and ``-deployment`` objects from it
  (``<name>-00001-deployment`` is 17 characters longer), and custom domain templates may join
  name and namespace within one 63-character DNS label.
* :func:`consumer_group` — the KafkaSource's consumer group. Immutable on the source and the
  key of the committed offsets, so it depends only on namespace and pipeline id (never on the
  version): starting another version resumes where the previous one stopped.
* :func:`label_value` — a label value for arbitrary text such as tenant ids (emails, URLs).

A name that is already valid is kept as it is. Otherwise it is sanitized into a readable prefix
and suffixed with 8 characters of the SHA-256 of the *original* text (base32, lower case), so
two different inputs practically never share a name (40 bits: a collision needs ~a million
names) and the same input always gets the same one. The raw id belongs in an annotation.
"""

import base64
import hashlib
import re
from typing import Final

from pipeline_models.ids import PipelineId

MAX_SERVICE_NAME_LENGTH: Final = 40
MAX_LABEL_VALUE_LENGTH: Final = 63
HASH_LENGTH: Final = 8
CONSUMER_GROUP_PREFIX: Final = "pipeline-events"

_DNS_1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")


def short_hash(text: str) -> str:
    """8 lower-case base32 characters (``a-z2-7``) of the SHA-256 of ``text``."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
    return base64.b32encode(digest[:5]).decode().lower()


def is_dns_1035_label(text: str, *, max_length: int = 63) -> bool:
    """Tell whether ``text`` is a DNS-1035 label of at most ``max_length`` characters."""
    return len(text) <= max_length and _DNS_1035.fullmatch(text) is not None


def is_label_value(text: str) -> bool:
    """Tell whether ``text`` is a valid Kubernetes label value."""
    return len(text) <= MAX_LABEL_VALUE_LENGTH and _LABEL_VALUE.fullmatch(text) is not None


def service_name(pipeline_id: PipelineId | str) -> str:
    """The Knative Service name of a pipeline: stable, DNS-1035, at most 40 characters."""
    if is_dns_1035_label(pipeline_id, max_length=MAX_SERVICE_NAME_LENGTH):
        return pipeline_id
    sanitized = re.sub(r"[^a-z0-9]+", "-", pipeline_id.lower()).strip("-")
    if not sanitized[:1].isalpha():
        sanitized = ("p-" + sanitized).rstrip("-")
    # Room for "-" + hash; the prefix starts with a letter and the hash ends alphanumeric.
    prefix = sanitized[: MAX_SERVICE_NAME_LENGTH - HASH_LENGTH - 1].rstrip("-")
    return f"{prefix}-{short_hash(pipeline_id)}"


def consumer_group(namespace: str, pipeline_id: PipelineId | str) -> str:
    """The Kafka consumer group of a pipeline's KafkaSource: stable across versions."""
    return f"{CONSUMER_GROUP_PREFIX}.{namespace}.{pipeline_id}"


def label_value(text: str) -> str:
    """A valid label value for ``text``: itself when valid, else a readable prefix + hash."""
    if is_label_value(text):
        return text
    sanitized = re.sub(r"[^A-Za-z0-9_.-]+", "-", text)
    prefix = sanitized[: MAX_LABEL_VALUE_LENGTH - HASH_LENGTH - 1]
    prefix = re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", prefix)
    return f"{prefix}-{short_hash(text)}" if prefix else short_hash(text)
