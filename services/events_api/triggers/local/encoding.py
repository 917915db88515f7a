"""A Kafka record as the exact HTTP request a KafkaSource sends for it (binary content mode).

Pure: record in, :class:`EventRequest` out (KNATIVE.md, "What the runner receives"):

* a **plain record** becomes an event with ``ce-specversion: 1.0``,
  ``ce-id: partition:<P>/offset:<O>``,
  ``ce-source: /apis/v1/namespaces/<ns>/kafkasources/<name>#<topic>``,
  ``ce-type: dev.knative.kafka.event``, ``ce-subject: partition:<P>#<O>``, ``ce-time`` (the
  record timestamp, RFC 3339 in UTC, milliseconds when not zero, as Java formats an ``Instant``),
  ``ce-key`` and ``ce-partitionkey`` (the key typed by the pipeline's ``key_type``; omitted when
  null or empty), one ``ce-kafkaheader<name>`` per Kafka header (name lower-cased, everything
  outside ``[a-z0-9]`` dropped, value as UTF-8; a repeated name keeps the last value), and
  ``Content-Type`` only when the record had a ``content-type`` header; the body is the value
  (a null value: an empty body);
* a record that **already is a CloudEvent** — Kafka protocol binding, binary mode (``ce_*``
  headers, ``content-type``) or structured mode (``content-type: application/cloudevents+json``)
  — is forwarded with its own attributes, re-encoded as binary HTTP;
* every event also carries ``ce-knativekafkapartition`` and ``ce-knativekafkaoffset``, and the
  other headers a source sends: ``Prefer: reply`` and ``Kn-Namespace``.

Header values are UTF-8 bytes (the runner reads them so). CR, LF and NUL, which no HTTP header
may carry, become spaces (*a deviation*: Knative's HTTP client would fail on them).

Key types (*inferred* from Knative's key deserializer): ``string`` UTF-8; ``int`` a 4- or 8-byte
big-endian signed integer; ``float`` a 4- or 8-byte IEEE 754 number; ``byte-array`` Base64. A key
whose size does not fit its type is sent as Base64.
"""

import base64
import re
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

import msgspec

from events_api.triggers.local.records import KafkaRecord

KeyType = Literal["string", "int", "float", "byte-array"]

SPEC_VERSION: Final = "1.0"
KAFKA_EVENT_TYPE: Final = "dev.knative.kafka.event"
STRUCTURED_JSON: Final = "application/cloudevents+json"
PARTITION_EXTENSION: Final = "knativekafkapartition"
OFFSET_EXTENSION: Final = "knativekafkaoffset"
_CE_HEADER: Final = "ce_"
_NOT_ATTRIBUTE_CHARACTER = re.compile(r"[^a-z0-9]")
_FORBIDDEN_IN_HEADER = re.compile(r"[\r\n\x00]")
_OBJECT_DECODER = msgspec.json.Decoder(dict[str, Any])
_ENCODER = msgspec.json.Encoder()

Headers = tuple[tuple[bytes, bytes], ...]
"""HTTP headers as raw (name, value) pairs; names lower case."""


@dataclass(frozen=True, slots=True)
class EventRequest:
    """The POST a KafkaSource makes for one record: headers and body."""

    headers: Headers
    body: bytes

    def header(self, name: str) -> str | None:
        """The value of the header `name` (lower case), decoded; None when absent."""
        wanted = name.encode()
        for key, value in self.headers:
            if key == wanted:
                return value.decode()
        return None

    def attributes(self) -> dict[str, str]:
        """The event's attributes and extensions (the ``ce-`` headers), by name."""
        return {
            key[3:].decode(): value.decode()
            for key, value in self.headers
            if key.startswith(b"ce-")
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceIdentity:
    """Who the events come from: the KafkaSource this backend stands in for."""

    namespace: str
    """Knative's namespace (a setting of the local backend)."""
    name: str
    """The source's name: the pipeline's Service name."""
    key_type: KeyType = "string"
    """The source's ``key-type`` label."""


def event_source(identity: SourceIdentity, topic: str) -> str:
    """The ``source`` attribute of a plain record's event."""
    return f"/apis/v1/namespaces/{identity.namespace}/kafkasources/{identity.name}#{topic}"


def encode_record(record: KafkaRecord, identity: SourceIdentity) -> EventRequest:
    """The HTTP request a KafkaSource sends for `record`.

    A record that claims structured mode but is no JSON object is sent as a plain record with
    its content type: the runner refuses it (400), so it goes to the dead letter at once.
    """
    content_type = _content_type_of(record)
    body = record.value or b""
    if any(name.lower().startswith(_CE_HEADER) for name, _ in record.headers):
        attributes, content_type = _binary_attributes(record)
    elif content_type is not None and content_type.lower().startswith(STRUCTURED_JSON):
        try:
            attributes, content_type, body = _structured_attributes(body)
        except ValueError:
            attributes = _plain_attributes(record, identity)
    else:
        attributes = _plain_attributes(record, identity)
    attributes[PARTITION_EXTENSION] = str(record.partition)
    attributes[OFFSET_EXTENSION] = str(record.offset)
    headers: list[tuple[bytes, bytes]] = [
        (b"ce-" + name.encode(), _header_value(value)) for name, value in attributes.items()
    ]
    if content_type is not None:
        headers.append((b"content-type", _header_value(content_type)))
    headers += [(b"prefer", b"reply"), (b"kn-namespace", _header_value(identity.namespace))]
    return EventRequest(headers=tuple(headers), body=body)


def _plain_attributes(record: KafkaRecord, identity: SourceIdentity) -> dict[str, str]:
    partition, offset = record.partition, record.offset
    attributes = {
        "specversion": SPEC_VERSION,
        "id": f"partition:{partition}/offset:{offset}",
        "source": event_source(identity, record.topic),
        "type": KAFKA_EVENT_TYPE,
        "subject": f"partition:{partition}#{offset}",
    }
    if record.timestamp_ms >= 0:
        attributes["time"] = format_time(record.timestamp_ms)
    key = typed_key(record.key, identity.key_type)
    if key:
        attributes["key"] = key
        attributes["partitionkey"] = key
    for name, value in record.headers:
        attributes["kafkaheader" + kafka_header_suffix(name)] = _text(value)
    return attributes


def _binary_attributes(record: KafkaRecord) -> tuple[dict[str, str], str | None]:
    """A CloudEvent in the Kafka binding's binary mode: ``ce_<name>`` headers are attributes."""
    attributes: dict[str, str] = {}
    content_type = None
    for name, value in record.headers:
        lowered = name.lower()
        if lowered.startswith(_CE_HEADER):
            attributes[lowered[len(_CE_HEADER) :]] = _text(value)
        elif lowered == "content-type":
            content_type = _text(value)
    # datacontenttype travels as Content-Type in HTTP's binary mode.
    declared = attributes.pop("datacontenttype", None)
    return attributes, content_type if content_type is not None else declared


def _structured_attributes(value: bytes) -> tuple[dict[str, str], str | None, bytes]:
    """A structured-mode CloudEvent (JSON) as binary-mode attributes, content type and body."""
    try:
        document = _OBJECT_DECODER.decode(value)
    except msgspec.DecodeError as error:
        raise ValueError(f"the record's structured CloudEvent is not a JSON object: {error}") from (
            error
        )
    data = document.pop("data", None)
    data_base64 = document.pop("data_base64", None)
    content_type = document.pop("datacontenttype", None)
    attributes = {
        name: _attribute_text(item) for name, item in document.items() if item is not None
    }
    if isinstance(data_base64, str):
        body = base64.b64decode(data_base64)
    elif data is None:
        body = b""
    elif isinstance(data, str) and not _is_json(content_type):
        body = data.encode()
    else:
        body = _ENCODER.encode(data)
        content_type = content_type or "application/json"
    return attributes, content_type if isinstance(content_type, str) else None, body


def _is_json(content_type: object) -> bool:
    if not isinstance(content_type, str):
        return False
    media = content_type.split(";")[0].strip().lower()
    return media in ("application/json", "text/json") or media.endswith("+json")


def _attribute_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _content_type_of(record: KafkaRecord) -> str | None:
    content_type = None
    for name, value in record.headers:
        if name.lower() == "content-type":
            content_type = _text(value)
    return content_type


def kafka_header_suffix(name: str) -> str:
    """The ``kafkaheader<suffix>`` of a Kafka header: lower case, only ``[a-z0-9]``."""
    return _NOT_ATTRIBUTE_CHARACTER.sub("", name.lower())


def format_time(timestamp_ms: int) -> str:
    """RFC 3339 in UTC, as Java's `Instant.toString` (milliseconds only when not zero)."""
    moment = datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)
    millis = timestamp_ms % 1000
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{millis:03d}Z" if millis else f"{text}Z"


def typed_key(key: bytes | None, key_type: KeyType) -> str | None:
    """The key's text for ``ce-key`` as the source's key type reads it; None for no key."""
    if not key:
        return None
    if key_type == "string":
        return key.decode("utf-8", "replace")
    if key_type == "int" and len(key) in (4, 8):
        return str(int.from_bytes(key, "big", signed=True))
    if key_type == "float" and len(key) in (4, 8):
        (number,) = struct.unpack(">f" if len(key) == 4 else ">d", key)
        return repr(number)
    return base64.b64encode(key).decode()


def _text(value: bytes | None) -> str:
    return "" if value is None else value.decode("utf-8", "replace")


def _header_value(text: str) -> bytes:
    return _FORBIDDEN_IN_HEADER.sub(" ", text).encode()
