"""A dead letter is the event with Knative's error extensions, as a KafkaSink would write it."""

import base64

from events_api.triggers.local.dead_letters import (
    dead_letter_record,
    dead_letter_request,
    error_extensions,
)
from events_api.triggers.local.delivery import Outcome
from events_api.triggers.local.encoding import SourceIdentity, encode_record
from events_api.triggers.local.records import KafkaRecord

RECORD = KafkaRecord(
    topic="orders",
    partition=0,
    offset=9,
    timestamp_ms=0,
    key=b"k",
    value=b'{"x": 1}',
    headers=(("content-type", b"application/json"),),
)
EVENT = encode_record(RECORD, SourceIdentity(namespace="local", name="p"))
FAILED = Outcome(
    delivered=False, attempts=3, url="http://127.0.0.1:5000", status=422, data=b"x" * 2000
)


def test_error_extensions() -> None:
    extensions = error_extensions(FAILED)
    assert extensions["knativeerrordest"] == "http://127.0.0.1:5000"
    assert extensions["knativeerrorcode"] == "422"
    assert base64.b64decode(extensions["knativeerrordata"]) == b"x" * 2000


def test_no_answer_no_code() -> None:
    outcome = Outcome(delivered=False, attempts=1, url="http://u", error="ConnectError")
    assert "knativeerrorcode" not in error_extensions(outcome)


def test_the_kafka_dead_letter_is_the_event_in_binary_mode() -> None:
    letter = dead_letter_record(RECORD, EVENT, FAILED)
    headers = dict(letter.headers)
    assert letter.key == b"k"
    assert letter.value == b'{"x": 1}'
    assert headers["ce_id"] == b"partition:0/offset:9"
    assert headers["ce_type"] == b"dev.knative.kafka.event"
    assert headers["ce_knativeerrorcode"] == b"422"
    assert headers["ce_knativeerrordest"] == b"http://127.0.0.1:5000"
    assert headers["content-type"] == b"application/json"
    assert "ce_knativeerrordata" in headers
    # HTTP-only headers stay out of the record.
    assert "prefer" not in headers


def test_the_uri_dead_letter_adds_the_extensions_as_headers() -> None:
    request = dead_letter_request(EVENT, FAILED)
    assert request.attributes()["knativeerrorcode"] == "422"
    assert request.body == EVENT.body
