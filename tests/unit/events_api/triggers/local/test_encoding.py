"""A Kafka record becomes exactly the KafkaSource's HTTP request, and the runner reads it back."""

import base64
import struct
from typing import Any

import msgspec
import pytest

from events_api.triggers.local.encoding import (
    EventRequest,
    KeyType,
    SourceIdentity,
    encode_record,
    format_time,
    kafka_header_suffix,
    typed_key,
)
from events_api.triggers.local.records import KafkaRecord
from pipeline_runner.decoding import decode_event

IDENTITY = SourceIdentity(namespace="local", name="pipeline-abc")
# 2026-01-02T03:04:05.678Z
TIMESTAMP_MS = 1767323045678


def record(**changes: Any) -> KafkaRecord:
    fields: dict[str, Any] = {
        "topic": "orders",
        "partition": 3,
        "offset": 42,
        "timestamp_ms": TIMESTAMP_MS,
        "key": b"customer-7",
        "value": b'{"n": 1}',
        "headers": (),
    }
    fields.update(changes)
    return KafkaRecord(**fields)


def names(request: EventRequest) -> list[bytes]:
    return [name for name, _ in request.headers]


def test_a_plain_record_gets_every_kafkasource_attribute() -> None:
    request = encode_record(
        record(headers=(("X-Request-Id", b"r-1"), ("trace_parent", b"00-ab"))), IDENTITY
    )

    assert request.attributes() == {
        "specversion": "1.0",
        "id": "partition:3/offset:42",
        "source": "/apis/v1/namespaces/local/kafkasources/pipeline-abc#orders",
        "type": "dev.knative.kafka.event",
        "subject": "partition:3#42",
        "time": "2026-01-02T03:04:05.678Z",
        "key": "customer-7",
        "partitionkey": "customer-7",
        "kafkaheaderxrequestid": "r-1",
        "kafkaheadertraceparent": "00-ab",
        "knativekafkapartition": "3",
        "knativekafkaoffset": "42",
    }
    assert request.body == b'{"n": 1}'
    # No content-type header on the record: none on the request.
    assert request.header("content-type") is None
    assert request.header("prefer") == "reply"
    assert request.header("kn-namespace") == "local"


@pytest.mark.parametrize("key", [None, b""])
def test_a_null_or_empty_key_is_omitted(key: bytes | None) -> None:
    attributes = encode_record(record(key=key), IDENTITY).attributes()
    assert "key" not in attributes
    assert "partitionkey" not in attributes


def test_content_type_only_from_the_record_header() -> None:
    request = encode_record(record(headers=(("content-type", b"text/plain"),)), IDENTITY)
    assert request.header("content-type") == "text/plain"
    # The header is a Kafka header like any other, too.
    assert request.attributes()["kafkaheadercontenttype"] == "text/plain"


def test_a_null_value_is_an_empty_body() -> None:
    assert encode_record(record(value=None), IDENTITY).body == b""


def test_header_values_are_utf8_and_repeats_keep_the_last() -> None:
    request = encode_record(
        record(headers=(("X-Id", b"first"), ("x_id", "zweite-\u00e4".encode()))), IDENTITY
    )
    assert request.attributes()["kafkaheaderxid"] == "zweite-\u00e4"
    assert names(request).count(b"ce-kafkaheaderxid") == 1


def test_line_breaks_never_reach_a_header() -> None:
    request = encode_record(record(headers=(("note", b"a\r\nb"),)), IDENTITY)
    assert request.attributes()["kafkaheadernote"] == "a  b"


@pytest.mark.parametrize(
    ("name", "suffix"),
    [
        ("X-Request-Id", "xrequestid"),
        ("content-type", "contenttype"),
        ("ÄBC_9", "bc9"),
        ("already", "already"),
    ],
)
def test_kafka_header_names(name: str, suffix: str) -> None:
    assert kafka_header_suffix(name) == suffix


@pytest.mark.parametrize(
    ("millis", "text"),
    [
        (0, "1970-01-01T00:00:00Z"),
        (1767323045000, "2026-01-02T03:04:05Z"),
        (1767323045001, "2026-01-02T03:04:05.001Z"),
        (TIMESTAMP_MS, "2026-01-02T03:04:05.678Z"),
    ],
)
def test_times_are_rfc3339_utc_like_java(millis: int, text: str) -> None:
    assert format_time(millis) == text


def test_no_timestamp_no_time() -> None:
    assert "time" not in encode_record(record(timestamp_ms=-1), IDENTITY).attributes()


@pytest.mark.parametrize(
    ("key", "key_type", "text"),
    [
        (b"abc", "string", "abc"),
        (struct.pack(">i", -5), "int", "-5"),
        (struct.pack(">q", 2**40), "int", str(2**40)),
        (struct.pack(">f", 1.5), "float", "1.5"),
        (struct.pack(">d", -0.25), "float", "-0.25"),
        (b"\x00\xff", "byte-array", base64.b64encode(b"\x00\xff").decode()),
        # A size that fits no number: Base64 rather than a wrong value.
        (b"abc", "int", base64.b64encode(b"abc").decode()),
        (b"", "string", None),
        (None, "int", None),
    ],
)
def test_keys_are_typed_by_the_key_type(
    key: bytes | None, key_type: KeyType, text: str | None
) -> None:
    assert typed_key(key, key_type) == text


def test_a_binary_cloudevent_record_keeps_its_own_attributes() -> None:
    headers = (
        ("ce_specversion", b"1.0"),
        ("ce_id", b"evt-1"),
        ("ce_source", b"/my/producer"),
        ("ce_type", b"com.example.order"),
        ("ce_myext", b"x"),
        ("content-type", b"application/json"),
        ("other", b"ignored"),
    )
    request = encode_record(record(headers=headers), IDENTITY)

    assert request.attributes() == {
        "specversion": "1.0",
        "id": "evt-1",
        "source": "/my/producer",
        "type": "com.example.order",
        "myext": "x",
        "knativekafkapartition": "3",
        "knativekafkaoffset": "42",
    }
    assert request.header("content-type") == "application/json"
    assert request.body == b'{"n": 1}'


def test_a_structured_cloudevent_record_is_sent_in_binary_mode() -> None:
    value = msgspec.json.encode(
        {
            "specversion": "1.0",
            "id": "evt-2",
            "source": "/s",
            "type": "t",
            "count": 3,
            "flag": True,
            "datacontenttype": "application/json",
            "data": {"a": 1},
        }
    )
    request = encode_record(
        record(value=value, headers=(("content-type", b"application/cloudevents+json"),)),
        IDENTITY,
    )
    attributes = request.attributes()
    assert attributes["id"] == "evt-2"
    assert attributes["count"] == "3"
    assert attributes["flag"] == "true"
    assert request.header("content-type") == "application/json"
    assert msgspec.json.decode(request.body) == {"a": 1}


def test_a_structured_record_with_base64_data() -> None:
    value = msgspec.json.encode(
        {"specversion": "1.0", "id": "e", "source": "/s", "type": "t", "data_base64": "AP8="}
    )
    request = encode_record(
        record(value=value, headers=(("content-type", b"application/cloudevents+json"),)),
        IDENTITY,
    )
    assert request.body == b"\x00\xff"
    assert request.header("content-type") is None


def test_a_broken_structured_record_goes_out_as_a_plain_one() -> None:
    request = encode_record(
        record(value=b"not json", headers=(("content-type", b"application/cloudevents+json"),)),
        IDENTITY,
    )
    assert request.attributes()["id"] == "partition:3/offset:42"
    assert request.header("content-type") == "application/cloudevents+json"


# The runner decodes what we send as a KafkaSource's event: same attributes, same data.


def test_the_runner_reads_a_plain_record_back() -> None:
    request = encode_record(record(headers=(("X-Request-Id", b"r-1"),)), IDENTITY)
    event = decode_event(request.headers, request.body)

    assert event.id == "partition:3/offset:42"
    assert event.source == "/apis/v1/namespaces/local/kafkasources/pipeline-abc#orders"
    assert event.type == "dev.knative.kafka.event"
    assert event.subject == "partition:3#42"
    assert event.time == "2026-01-02T03:04:05.678Z"
    assert event.timestamp is not None
    assert event.timestamp.microsecond == 678000
    assert event.key == "customer-7"
    assert event.kafka_headers == {"xrequestid": "r-1"}
    assert event.extensions["knativekafkaoffset"] == "42"
    assert event.datacontenttype is None
    # Without a content type the runner tries JSON first.
    assert event.data == {"n": 1}
    attributes = request.attributes()
    decoded = {
        "specversion": event.specversion,
        "id": event.id,
        "source": event.source,
        "type": event.type,
        "subject": event.subject,
        "time": event.time,
        **event.extensions,
    }
    assert decoded == attributes


@pytest.mark.parametrize(
    ("value", "content_type", "data", "data_bytes"),
    [
        (b"plain text", None, "plain text", None),
        (b"\xff\xfe", None, None, b"\xff\xfe"),
        (None, None, None, None),
        (b"<a/>", b"application/xml", None, b"<a/>"),
        (b'"s"', b"application/json", "s", None),
    ],
)
def test_the_runner_reads_the_data_back(
    value: bytes | None, content_type: bytes | None, data: Any, data_bytes: bytes | None
) -> None:
    headers = (("content-type", content_type),) if content_type is not None else ()
    request = encode_record(record(value=value, headers=headers), IDENTITY)
    event = decode_event(request.headers, request.body)
    assert event.data == data
    assert event.data_bytes == data_bytes


def test_the_runner_reads_a_forwarded_cloudevent_back() -> None:
    headers = (
        ("ce_specversion", b"1.0"),
        ("ce_id", b"evt-1"),
        ("ce_source", b"/my/producer"),
        ("ce_type", b"com.example.order"),
        ("ce_time", b"2026-01-02T03:04:05Z"),
        ("content-type", b"application/json"),
    )
    request = encode_record(record(headers=headers, key=None), IDENTITY)
    event = decode_event(request.headers, request.body)
    assert (event.id, event.source, event.type) == ("evt-1", "/my/producer", "com.example.order")
    assert event.datacontenttype == "application/json"
    assert event.data == {"n": 1}
