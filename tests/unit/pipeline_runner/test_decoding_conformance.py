"""The runner decodes whatever the CloudEvents SDK (the reference encoder) writes, losslessly.

Hypothesis builds events with arbitrary attributes, extensions and data; the SDK encodes them in
binary and structured mode; decoding must give back the SDK's attributes and the data.
"""

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import hypothesis.strategies as st
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent as SdkEvent
from cloudevents.http import from_http
from hypothesis import given

from pipeline_runner.decoding import decode_event
from pipeline_runner.event import CORE_ATTRIBUTES, CloudEvent

Marshaller = Callable[[Any], Any] | None
Payload = tuple[str | None, Any, Marshaller]

# Header values: no control characters, no surrounding blanks (HTTP strips those).
attribute_text = (
    st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=40)
    .map(str.strip)
    .filter(bool)
)
extension_names = st.from_regex(r"[a-z0-9]{1,20}", fullmatch=True).filter(
    lambda name: name not in CORE_ATTRIBUTES | {"data", "data_base64"}
)
# RFC 3339 offsets are whole minutes (historical zones had seconds, which it cannot spell).
offsets = st.integers(min_value=-720, max_value=840).map(lambda m: timezone(timedelta(minutes=m)))
times = st.datetimes(timezones=offsets).map(datetime.isoformat)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def _encode_text(text: str) -> bytes:
    return text.encode()


payloads: st.SearchStrategy[Payload] = st.one_of(
    st.tuples(st.just("application/json"), json_values, st.none()),
    st.tuples(st.none(), json_values, st.none()),
    st.tuples(st.just("text/plain"), st.text(min_size=1), st.just(_encode_text)),
    st.tuples(st.just("application/octet-stream"), st.binary(min_size=1), st.none()),
    # Without a content type, only bytes that are neither JSON nor UTF-8 stay bytes.
    st.tuples(st.none(), st.binary().map(lambda data: b"\xff" + data), st.none()),
)


@st.composite
def sdk_events(draw: st.DrawFn, *, payload: Payload) -> SdkEvent:
    content_type, data, _ = payload
    attributes: dict[str, Any] = {
        "id": draw(attribute_text),
        "source": draw(attribute_text),
        "type": draw(attribute_text),
        "time": draw(times),
    }
    if draw(st.booleans()):
        attributes["subject"] = draw(attribute_text)
    if draw(st.booleans()):
        attributes["dataschema"] = draw(attribute_text)
    if content_type is not None:
        attributes["datacontenttype"] = content_type
    attributes.update(draw(st.dictionaries(extension_names, attribute_text, max_size=4)))
    return SdkEvent.create(attributes, data)


@st.composite
def encoded_events(draw: st.DrawFn) -> tuple[SdkEvent, Marshaller]:
    payload = draw(payloads)
    return draw(sdk_events(payload=payload)), payload[2]


def decoded_attributes(event: CloudEvent) -> dict[str, Any]:
    core = {
        name: getattr(event, name) for name in CORE_ATTRIBUTES if getattr(event, name) is not None
    }
    return {**core, **event.extensions}


def decoded_data(event: CloudEvent) -> Any:
    return event.data_bytes if event.data_bytes is not None else event.data


def raw_headers(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode()) for name, value in headers.items()]


@given(encoded_events())
def test_binary_mode_decodes_what_the_sdk_encodes(case: tuple[SdkEvent, Marshaller]) -> None:
    sdk_event, marshaller = case
    headers, body = to_binary(sdk_event, data_marshaller=marshaller)

    event = decode_event(raw_headers(headers), body or b"")

    assert decoded_attributes(event) == sdk_event.get_attributes()
    assert decoded_data(event) == sdk_event.get_data()


@given(encoded_events())
def test_structured_mode_decodes_what_the_sdk_encodes(case: tuple[SdkEvent, Marshaller]) -> None:
    sdk_event, _ = case
    headers, body = to_structured(sdk_event)

    event = decode_event(raw_headers(headers), body)

    assert decoded_attributes(event) == sdk_event.get_attributes()
    assert decoded_data(event) == sdk_event.get_data()


@given(st.tuples(st.none(), json_values, st.none()).flatmap(lambda p: sdk_events(payload=p)))
def test_json_without_content_type_reads_as_the_sdk_reads_it(sdk_event: SdkEvent) -> None:
    headers, body = to_binary(sdk_event)

    event = decode_event(raw_headers(headers), body or b"")

    expected = from_http(headers, body).get_data()
    if body == b'""':
        # SDK 1.x turns the JSON string "" into no data at all; the record did carry a value
        # (an empty string), and we keep it.
        assert expected is None
        expected = ""
    assert event.data == expected
