"""The CloudEvent the runner works on, and the view of it that expressions see.

Decoding (:mod:`pipeline_runner.decoding`) turns an HTTP request into a :class:`CloudEvent`;
the engine evaluates step expressions against :func:`expression_view`, which is the event as
the CloudEvents JSON format would spell it: attributes and extensions at the top level, and
``data`` (a JSON value or text) or ``data_base64`` (binary data, Base64) beside them.

The struct lives in the runner, not in ``pipeline_models``: only the runner reads events, and
the control plane never needs their shape.
"""

import base64
import functools
import re
from datetime import datetime
from typing import Any, Final

import msgspec

ExtensionValue = str | int | bool
"""The CloudEvents types an extension can carry in the JSON format (binary mode: always str)."""

CORE_ATTRIBUTES: Final = frozenset(
    {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema"}
)
"""Attributes of CloudEvents 1.0 that are not extensions (``data`` aside)."""


_HEADER_PREFIX: Final = "kafkaheader"
_HEADER_PREFIX_LENGTH: Final = len(_HEADER_PREFIX)
_KAFKA_ID = re.compile(r"^partition:(\d+)/offset:(\d+)$")


class CloudEvent(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One CloudEvents 1.0 event, as the runner received it.

    ``gc=False``: an event refers to plain data only (strings, numbers, dicts and lists of
    them), never back to itself, so the garbage collector need not track it.
    """

    specversion: str
    """Always ``1.0`` after decoding."""
    id: str
    """Unique per ``source``; with it, the deduplication key."""
    source: str
    """A URI reference naming where the event comes from."""
    type: str
    """The kind of event, e.g. ``dev.knative.kafka.event``."""
    subject: str | None = None
    """What the event is about within the source."""
    time: str | None = None
    """RFC 3339 timestamp as sent (checked, not normalised)."""
    datacontenttype: str | None = None
    """Media type of the data, as sent; None when the sender gave none."""
    dataschema: str | None = None
    """URI of the data's schema."""
    extensions: dict[str, ExtensionValue] = {}
    """Every other attribute, e.g. ``key``, ``kafkaheaderxrequestid``."""
    kafka_headers: dict[str, ExtensionValue] = {}
    """The record's Kafka headers by name, from the ``kafkaheader<name>`` extensions (names as
    Knative spelled them: lower case, only ``[a-z0-9]``); see :func:`kafka_headers_of`."""
    data: Any = None
    """The data as a JSON value or text; None when absent or when it is :attr:`data_bytes`."""
    data_bytes: bytes | None = None
    """Binary data that is neither JSON nor text; None otherwise."""
    timestamp: datetime | None = None
    """:attr:`time` parsed (timezone-aware); None without a time."""

    @property
    def dedup_key(self) -> tuple[str, str]:
        """What identifies a redelivery: ``source`` and ``id`` (CloudEvents' uniqueness rule)."""
        return (self.source, self.id)

    @property
    def key(self) -> ExtensionValue | None:
        """The Kafka record key: the ``key`` extension, else ``partitionkey``, else None."""
        extensions = self.extensions
        return extensions.get("key", extensions.get("partitionkey"))

    @property
    def partition_and_offset(self) -> tuple[int | None, int | None]:
        """The record's partition and offset: from ``knativekafkapartition`` and
        ``knativekafkaoffset``, else from a KafkaSource id ``partition:<P>/offset:<O>``."""
        extensions = self.extensions
        partition = _integer(extensions.get("knativekafkapartition"))
        offset = _integer(extensions.get("knativekafkaoffset"))
        if (partition is None or offset is None) and (match := _KAFKA_ID.match(self.id)):
            return int(match[1]), int(match[2])
        return partition, offset

    @property
    def topic(self) -> str | None:
        """The topic, what follows ``#`` in a KafkaSource ``source``; else None."""
        return _topic(self.source)


def expression_view(event: CloudEvent) -> dict[str, Any]:
    """The event as expressions see it: ``${{ event.data.x }}``, ``${{ event.key }}``, …

    ``{id, source, type, subject, time, data, extensions, key, partition, offset, topic,
    headers}`` plus ``specversion``, ``datacontenttype`` and ``dataschema``:

    * ``extensions``: every extension attribute as received;
    * ``key``: the record key (``key``, else ``partitionkey``), or null;
    * ``partition``, ``offset``: integers from ``knativekafkapartition``/``knativekafkaoffset``,
      else from a KafkaSource id ``partition:<P>/offset:<O>``, else null;
    * ``topic``: what follows ``#`` in a KafkaSource ``source``, else null;
    * ``headers``: the Kafka headers, ``{name: value}`` from the ``kafkaheader<name>`` extensions
      (names as Knative spelled them: lower case, only ``[a-z0-9]``);
    * ``data``: the JSON value or text; binary data is null here and Base64 in ``data_base64``.
    """
    partition, offset = event.partition_and_offset
    view: dict[str, Any] = {
        "specversion": event.specversion,
        "id": event.id,
        "source": event.source,
        "type": event.type,
        "subject": event.subject,
        "time": event.time,
        "datacontenttype": event.datacontenttype,
        "dataschema": event.dataschema,
        "extensions": event.extensions,
        "key": event.key,
        "partition": partition,
        "offset": offset,
        "topic": event.topic,
        "headers": event.kafka_headers,
        "data": event.data,
    }
    if event.data_bytes is not None:
        view["data_base64"] = base64.b64encode(event.data_bytes).decode("ascii")
    return view


def kafka_header_name(extension: str) -> str | None:
    """The Kafka header a ``kafkaheader<name>`` extension carries, else None."""
    if extension.startswith(_HEADER_PREFIX) and len(extension) > _HEADER_PREFIX_LENGTH:
        return extension[_HEADER_PREFIX_LENGTH:]
    return None


def kafka_headers_of(extensions: dict[str, ExtensionValue]) -> dict[str, ExtensionValue]:
    """The Kafka headers among the extensions, by name."""
    return {
        name[_HEADER_PREFIX_LENGTH:]: value
        for name, value in extensions.items()
        if kafka_header_name(name) is not None
    }


@functools.lru_cache(maxsize=64)
def _topic(source: str) -> str | None:
    # Cached: a runner's events come from one KafkaSource, or a few.
    if source.startswith("/apis/") and "/kafkasources/" in source and "#" in source:
        return source.rpartition("#")[2] or None
    return None


def _integer(value: ExtensionValue | None) -> int | None:
    # Binary mode (the usual case) always brings strings: test for those first.
    if type(value) is str:
        return int(value) if value.isascii() and value.isdigit() else None
    return value if type(value) is int else None
