"""Decoding CloudEvents exactly as a KafkaSource sends them, and in structured mode."""

from datetime import UTC, datetime

import pytest

from pipeline_runner.decoding import check_rfc3339, decode_event, parse_media_type
from pipeline_runner.errors import EventRejected, UnsupportedEventFormat
from pipeline_runner.event import CloudEvent, ExtensionValue, expression_view

SOURCE = "/apis/v1/namespaces/team-a/kafkasources/orders-source#orders"


def kafka_source_headers(*extra: tuple[bytes, bytes]) -> list[tuple[bytes, bytes]]:
    """What Knative's Kafka dispatcher sends for a plain record (key, one header, no type)."""
    return [
        (b"host", b"orders-runner.team-a.svc.cluster.local"),
        (b"user-agent", b"Vert.x-WebClient/4.5.10"),
        (b"ce-specversion", b"1.0"),
        (b"ce-id", b"partition:3/offset:1042"),
        (b"ce-source", SOURCE.encode()),
        (b"ce-type", b"dev.knative.kafka.event"),
        (b"ce-subject", b"partition:3#1042"),
        (b"ce-time", b"2026-03-01T12:34:56.789Z"),
        (b"ce-key", b"customer-7"),
        (b"ce-partitionkey", b"customer-7"),
        (b"ce-kafkaheaderxrequestid", b"req-19"),
        (b"ce-knativekafkapartition", b"3"),
        (b"ce-knativekafkaoffset", b"1042"),
        (b"prefer", b"reply"),
        (b"kn-namespace", b"team-a"),
        (b"authorization", b"Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln"),
        (b"content-length", b"27"),
        *extra,
    ]


KAFKA_EXTENSIONS: dict[str, ExtensionValue] = {
    "key": "customer-7",
    "partitionkey": "customer-7",
    "kafkaheaderxrequestid": "req-19",
    "knativekafkapartition": "3",
    "knativekafkaoffset": "1042",
}


def test_a_kafka_record_without_content_type_is_read_as_json() -> None:
    event = decode_event(kafka_source_headers(), b'{"amount": 120, "sku": "A-1"}')

    assert event.timestamp == datetime(2026, 3, 1, 12, 34, 56, 789000, tzinfo=UTC)
    assert event == CloudEvent(
        specversion="1.0",
        id="partition:3/offset:1042",
        source=SOURCE,
        type="dev.knative.kafka.event",
        subject="partition:3#1042",
        time="2026-03-01T12:34:56.789Z",
        datacontenttype=None,
        extensions=KAFKA_EXTENSIONS,
        kafka_headers={"xrequestid": "req-19"},
        data={"amount": 120, "sku": "A-1"},
        timestamp=event.timestamp,
    )
    assert event.dedup_key == (SOURCE, "partition:3/offset:1042")


@pytest.mark.parametrize(
    ("body", "data"),
    [
        (b"hello, world", "hello, world"),
        (b"42", 42),
        (b'"quoted"', "quoted"),
        (b"caf\xc3\xa9 {", "café {"),
        (b"", None),
    ],
)
def test_a_kafka_record_without_content_type_falls_back_to_text(body: bytes, data: object) -> None:
    event = decode_event(kafka_source_headers(), body)

    assert event.data == data
    assert event.data_bytes is None


def test_a_kafka_record_that_is_not_text_stays_bytes_and_shows_as_base64() -> None:
    event = decode_event(kafka_source_headers(), b"\xff\x00\xfe")

    assert event.data is None
    assert event.data_bytes == b"\xff\x00\xfe"
    view = expression_view(event)
    assert view["data_base64"] == "/wD+"
    assert view["data"] is None


def test_a_record_with_a_content_type_header_sends_it_as_content_type() -> None:
    headers = kafka_source_headers((b"content-type", b"application/json; charset=utf-8"))

    event = decode_event(headers, b'{"n": 1}')

    assert event.datacontenttype == "application/json; charset=utf-8"
    assert event.data == {"n": 1}


def test_json_declared_data_that_is_not_json_is_rejected() -> None:
    headers = kafka_source_headers((b"content-type", b"application/json"))

    with pytest.raises(EventRejected, match="not JSON"):
        decode_event(headers, b"not json")


@pytest.mark.parametrize(
    ("content_type", "body", "data", "data_bytes"),
    [
        (b"text/plain; charset=iso-8859-1", b"caf\xe9", "caf\xe9", None),
        (b"text/csv", b"a,b\n1,2", "a,b\n1,2", None),
        (b"application/vnd.order+json", b"[1, 2]", [1, 2], None),
        (b"application/octet-stream", b'{"n": 1}', None, b'{"n": 1}'),
        (b"application/avro", b"\x00\x01", None, b"\x00\x01"),
    ],
)
def test_declared_content_types_decide_the_data(
    content_type: bytes, body: bytes, data: object, data_bytes: bytes | None
) -> None:
    event = decode_event(kafka_source_headers((b"content-type", content_type)), body)

    assert (event.data, event.data_bytes) == (data, data_bytes)


def test_header_values_are_read_as_utf8() -> None:
    headers = kafka_source_headers((b"ce-kafkaheadercustomer", "Zoë Ørsted".encode()))

    event = decode_event(headers, b"{}")

    assert event.extensions["kafkaheadercustomer"] == "Zoë Ørsted"


def test_a_record_that_already_is_a_cloudevent_keeps_its_attributes() -> None:
    headers = [
        (b"ce-specversion", b"1.0"),
        (b"ce-id", b"order-9"),
        (b"ce-source", b"https://shop.example/orders"),
        (b"ce-type", b"com.example.order.created"),
        (b"ce-dataschema", b"https://shop.example/schemas/order"),
        (b"ce-knativekafkapartition", b"0"),
        (b"ce-knativekafkaoffset", b"7"),
        (b"content-type", b"application/json"),
    ]

    event = decode_event(headers, b'{"order": 9}')

    assert (event.id, event.source, event.type) == (
        "order-9",
        "https://shop.example/orders",
        "com.example.order.created",
    )
    assert event.dataschema == "https://shop.example/schemas/order"
    assert event.subject is None
    assert event.time is None


@pytest.mark.parametrize("missing", [b"ce-id", b"ce-source", b"ce-type"])
def test_a_binary_event_without_a_required_attribute_is_rejected(missing: bytes) -> None:
    headers = [(name, value) for name, value in kafka_source_headers() if name != missing]

    with pytest.raises(EventRejected, match=missing.decode()[3:]):
        decode_event(headers, b"{}")


def test_an_empty_required_attribute_is_rejected() -> None:
    headers = [(n, b"" if n == b"ce-id" else v) for n, v in kafka_source_headers()]

    with pytest.raises(EventRejected, match="id is missing or empty"):
        decode_event(headers, b"{}")


def test_another_specversion_is_rejected() -> None:
    headers = [(n, b"0.3" if n == b"ce-specversion" else v) for n, v in kafka_source_headers()]

    with pytest.raises(EventRejected, match=r"specversion '0\.3'"):
        decode_event(headers, b"{}")


def test_a_request_without_cloudevent_headers_is_rejected() -> None:
    with pytest.raises(EventRejected, match="not a CloudEvent"):
        decode_event([(b"content-type", b"application/json")], b'{"n": 1}')


def test_a_repeated_attribute_header_is_rejected() -> None:
    with pytest.raises(EventRejected, match="twice"):
        decode_event(kafka_source_headers((b"ce-id", b"other")), b"{}")


def test_a_header_that_is_not_utf8_is_rejected() -> None:
    with pytest.raises(EventRejected, match="not UTF-8"):
        decode_event(kafka_source_headers((b"ce-kafkaheaderx", b"\xff")), b"{}")


def test_an_invalid_attribute_name_is_rejected() -> None:
    with pytest.raises(EventRejected, match="attribute name"):
        decode_event(kafka_source_headers((b"ce-x_y", b"1")), b"{}")


def test_structured_mode_reads_the_json_format() -> None:
    body = (
        b'{"specversion": "1.0", "id": "e-1", "source": "/s", "type": "t",'
        b' "time": "2026-01-02T03:04:05+01:00", "datacontenttype": "application/json",'
        b' "priority": 3, "urgent": true, "region": "eu", "subject": null, "data": {"a": [1]}}'
    )

    event = decode_event([(b"content-type", b"application/cloudevents+json; charset=UTF-8")], body)

    assert event == CloudEvent(
        specversion="1.0",
        id="e-1",
        source="/s",
        type="t",
        time="2026-01-02T03:04:05+01:00",
        datacontenttype="application/json",
        extensions={"priority": 3, "urgent": True, "region": "eu"},
        data={"a": [1]},
        timestamp=datetime(2026, 1, 2, 2, 4, 5, tzinfo=UTC),
    )


def test_structured_mode_reads_base64_data() -> None:
    body = b'{"specversion": "1.0", "id": "e", "source": "/s", "type": "t", "data_base64": "AAE="}'

    event = decode_event([(b"content-type", b"application/cloudevents+json")], body)

    assert event.data_bytes == b"\x00\x01"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "not a JSON object"),
        (b"{", "not a JSON object"),
        (b'{"specversion": "1.0", "source": "/s", "type": "t"}', "id is missing"),
        (b'{"specversion": "1.0", "id": 1, "source": "/s", "type": "t"}', "must be a string"),
        (b'{"specversion": "1.0", "id": "e", "source": "/s", "type": "t", "x": 1.5}', "extension"),
        (b'{"specversion": "1.0", "id": "e", "source": "/s", "type": "t", "Bad": "1"}', "name"),
        (
            b'{"specversion": "1.0", "id": "e", "source": "/s", "type": "t",'
            b' "data": 1, "data_base64": "AA=="}',
            "not both",
        ),
        (
            b'{"specversion": "1.0", "id": "e", "source": "/s", "type": "t", "data_base64": "!"}',
            "not Base64",
        ),
    ],
)
def test_invalid_structured_events_are_rejected(body: bytes, message: str) -> None:
    with pytest.raises(EventRejected, match=message):
        decode_event([(b"content-type", b"application/cloudevents+json")], body)


@pytest.mark.parametrize(
    "content_type", [b"application/cloudevents-batch+json", b"application/cloudevents+avro"]
)
def test_batches_and_other_formats_are_unsupported(content_type: bytes) -> None:
    with pytest.raises(UnsupportedEventFormat):
        decode_event([(b"content-type", content_type)], b"[]")


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-01T12:34:56Z",
        "2026-03-01t12:34:56z",
        "2026-03-01 12:34:56+05:30",
        "2026-03-01T12:34:56.123456789-08:00",
        "2016-12-31T23:59:60Z",
    ],
)
def test_every_rfc3339_form_is_accepted(text: str) -> None:
    assert check_rfc3339(text).tzinfo is not None


@pytest.mark.parametrize(
    "text", ["2026-03-01", "2026-03-01T12:34:56", "2026-02-30T00:00:00Z", "yesterday"]
)
def test_other_times_are_rejected(text: str) -> None:
    headers = [(n, text.encode() if n == b"ce-time" else v) for n, v in kafka_source_headers()]

    with pytest.raises(EventRejected, match="time"):
        decode_event(headers, b"{}")


def test_media_types_are_split_from_their_parameters() -> None:
    assert parse_media_type('Text/Plain ; Charset="latin-1"') == (
        "text/plain",
        {"charset": "latin-1"},
    )
    assert parse_media_type(None) == ("", {})


def test_expressions_see_the_kafka_record_by_name() -> None:
    event = decode_event(kafka_source_headers(), b'{"amount": 120}')

    view = expression_view(event)

    assert {name: view[name] for name in ("key", "partition", "offset", "topic", "headers")} == {
        "key": "customer-7",
        "partition": 3,
        "offset": 1042,
        "topic": "orders",
        "headers": {"xrequestid": "req-19"},
    }
    assert view["extensions"] == KAFKA_EXTENSIONS
    assert view["data"] == {"amount": 120}
    assert (view["id"], view["subject"], view["time"]) == (
        "partition:3/offset:1042",
        "partition:3#1042",
        "2026-03-01T12:34:56.789Z",
    )


def test_a_record_without_key_or_kafka_extensions_has_nulls_and_reads_the_id() -> None:
    headers = [
        (name, value)
        for name, value in kafka_source_headers()
        if name not in (b"ce-key", b"ce-partitionkey", b"ce-knativekafkapartition")
    ]

    view = expression_view(decode_event(headers, b""))

    assert (view["key"], view["partition"], view["offset"]) == (None, 3, 1042)
    assert view["data"] is None


def test_a_structured_event_from_elsewhere_has_no_topic() -> None:
    body = b'{"specversion": "1.0", "id": "e", "source": "https://x.example/a#b", "type": "t"}'

    view = expression_view(decode_event([(b"content-type", b"application/cloudevents+json")], body))

    assert (view["topic"], view["partition"], view["key"], view["headers"]) == (
        None,
        None,
        None,
        {},
    )
