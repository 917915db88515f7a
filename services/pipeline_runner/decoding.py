"""Reading a CloudEvent from an HTTP request: binary mode (KafkaSource) and structured mode.

Pure functions over the request's raw ASGI headers and body; no I/O. The rules:

* **Structured mode** when the media type is ``application/cloudevents+json``: the body is the
  event in the CloudEvents JSON format (``data`` or ``data_base64``). Batches
  (``application/cloudevents-batch+json``) and other formats are refused as unsupported: a
  KafkaSource never sends them.
* **Binary mode** otherwise, recognised by a ``ce-specversion`` header: attributes are the
  ``ce-<name>`` headers (values read as UTF-8, not percent-decoded, as Knative's Java dispatcher
  and the Python SDK write them), ``Content-Type`` is ``datacontenttype``, the body is the data.
* **The data of a binary event**, by its content type:

  ========================================  ====================================================
  none (a KafkaSource record without one)   JSON if the body parses as JSON, else UTF-8 text,
                                            else bytes (``data_base64`` in expressions)
  ``application/json``, ``*/*+json``,       JSON; a body that does not parse is refused
  ``text/json``
  ``text/*``                                text in the declared charset (UTF-8 by default);
                                            undecodable text is refused
  anything else                             bytes (``data_base64`` in expressions)
  ========================================  ====================================================

  An empty body is no data (``data`` is null), whatever the content type.
* Only CloudEvents 1.0 is read; ``id``, ``source``, ``type`` must be non-empty, ``time`` must be
  RFC 3339 (any form: ``T``/``t``/space, ``Z``/``z``/offset, any fraction, leap second),
  attribute names must be ``[a-z0-9]+``. Violations raise :class:`EventRejected` (permanent:
  redelivering the same bytes cannot help).
"""

import base64
import binascii
import codecs
import functools
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final

import msgspec

from pipeline_runner.errors import EventRejected, UnsupportedEventFormat
from pipeline_runner.event import (
    CORE_ATTRIBUTES,
    CloudEvent,
    ExtensionValue,
    kafka_header_name,
    kafka_headers_of,
)

SPEC_VERSION: Final = "1.0"
STRUCTURED_JSON: Final = "application/cloudevents+json"
_STRUCTURED_PREFIX: Final = "application/cloudevents"
_HEADER_PREFIX: Final = b"ce-"
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
_JSON_DECODER = msgspec.json.Decoder()
_OBJECT_DECODER = msgspec.json.Decoder(dict[str, Any])

RawHeaders = Iterable[tuple[bytes, bytes]]
"""ASGI's ``scope["headers"]``: lower-cased names and values as raw bytes."""


def decode_event(headers: RawHeaders, body: bytes) -> CloudEvent:
    """Read the CloudEvent of a request in binary or structured content mode.

    This is the per-event hot path: one pass over the headers sorts the ``ce-*`` ones into
    core attributes and extensions (:func:`_collect_headers`); the rest is look-ups in those.

    Raises:
        UnsupportedEventFormat: batched mode or a non-JSON event format.
        EventRejected: anything else that is not a valid CloudEvents 1.0 event.
    """
    content_type, core, extensions, kafka_headers = _collect_headers(headers)
    media_type, params, structured, json_data = _content_reading(content_type)
    if structured:
        return _decode_structured(media_type, body)
    if "specversion" not in core:
        raise EventRejected(
            "not a CloudEvent: send binary mode (ce-specversion, ce-id, ce-source, ce-type "
            f"headers) or structured mode (Content-Type: {STRUCTURED_JSON})"
        )
    # Binary mode, inline (the usual case). datacontenttype travels as Content-Type; a stray
    # ce-datacontenttype only fills a gap.
    declared = core.pop("datacontenttype", None)
    if json_data and body:
        # A KafkaSource's JSON records: straight to the decoder.
        data, data_bytes = _json_data(media_type, body), None
    else:
        if content_type is None and declared is not None:
            content_type = declared
            media_type, params = parse_media_type(declared)
        data, data_bytes = _binary_data(media_type, params, body, declared=content_type is not None)
    # The Kafka headers were collected on the way (what kafka_headers_of would find).
    return _build_event(core, extensions, kafka_headers, content_type, data, data_bytes)


def _collect_headers(
    headers: RawHeaders,
) -> tuple[str | None, dict[str, str], dict[str, ExtensionValue], dict[str, ExtensionValue]]:
    """The content type, core attributes, extensions and Kafka headers of a request, in one
    pass over its headers sorted by a cached look-up of their names (:func:`_classify_header`).

    Raises:
        EventRejected: a ``ce-`` header repeated, not UTF-8, or with no attribute's name.
    """
    content_type: str | None = None
    core: dict[str, str] = {}
    extensions: dict[str, ExtensionValue] = {}
    kafka_headers: dict[str, ExtensionValue] = {}
    # Locals, not globals or enum members: this loop runs once per header of every event.
    kinds, unknown, core_kind, extension_kind = _HEADER_KINDS, _UNKNOWN, _CORE, _EXTENSION
    try:
        for raw_name, raw_value in headers:
            entry = kinds.get(raw_name, unknown)
            if entry is unknown:
                entry = _classify_header(raw_name)
            if entry is None:
                continue  # Not an attribute: Host, Content-Length…
            kind, name, kafka_header = entry
            value = raw_value.decode()  # UTF-8
            # One look-up both stores and detects a repeated header (a repeat with the very same
            # one-character value shares its str object with the first and passes: harmless).
            if kind == core_kind:
                if core.setdefault(name, value) is not value:
                    raise EventRejected(f"the header ce-{name} appears twice")
            elif kind == extension_kind:
                if extensions.setdefault(name, value) is not value:
                    raise EventRejected(f"the header ce-{name} appears twice")
                if kafka_header:
                    kafka_headers[kafka_header] = value
            else:
                content_type = value
    except UnicodeDecodeError as error:
        raise EventRejected(f"the header {raw_name.decode('latin-1')} is not UTF-8") from error
    return content_type, core, extensions, kafka_headers


@functools.lru_cache(maxsize=256)
def _content_reading(content_type: str | None) -> tuple[str, dict[str, str], bool, bool]:
    """How to read a request by its ``Content-Type``: the media type and its parameters,
    whether it is a structured-mode event, and whether binary-mode data is declared JSON."""
    media_type, params = parse_media_type(content_type)
    declared_json = content_type is not None and is_json_media_type(media_type)
    return media_type, params, media_type.startswith(_STRUCTURED_PREFIX), declared_json


# What a request header is to the decoder: None (no attribute), or its kind, attribute name and,
# for a ``kafkaheader<name>`` extension, the Kafka header's name (else "").
_CORE: Final = 1
_EXTENSION: Final = 2
_CONTENT_TYPE: Final = 3
HeaderKind = tuple[int, str, str] | None
_UNKNOWN: Final[tuple[int, str, str]] = (0, "", "")
"""What :data:`_HEADER_KINDS` gives for a name not classified yet."""

_HEADER_KINDS: dict[bytes, HeaderKind] = {}
"""Header names seen so far, classified; a process sees the same few dozen over and over."""
_MAX_CACHED_HEADERS: Final = 1024
"""Bound of :data:`_HEADER_KINDS`: senders inventing names cannot grow it past this."""


def _classify_header(raw_name: bytes) -> HeaderKind:
    """Tell what a header is (see :data:`HeaderKind`); cache the answer.

    Raises:
        EventRejected: a ``ce-`` header whose name is no attribute name (never cached).
    """
    found: HeaderKind
    if raw_name.startswith(_HEADER_PREFIX):
        name = raw_name[len(_HEADER_PREFIX) :].decode("latin-1").lower()
        _check_attribute_name(name)
        kind = _CORE if name in CORE_ATTRIBUTES else _EXTENSION
        found = (kind, name, kafka_header_name(name) or "")
    elif raw_name == b"content-type":
        found = (_CONTENT_TYPE, "", "")
    else:
        found = None
    if len(_HEADER_KINDS) < _MAX_CACHED_HEADERS:
        _HEADER_KINDS[raw_name] = found
    return found


@functools.lru_cache(maxsize=256)
def parse_media_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    """Split ``text/plain; charset=utf-8`` into ``("text/plain", {"charset": "utf-8"})``.

    Cached: a runner sees the same few content types over and over. The parameters are shared
    between callers: read them, never change them.
    """
    if content_type is None:
        return "", {}
    media_type, *rest = content_type.split(";")
    params: dict[str, str] = {}
    for item in rest:
        key, sep, value = item.partition("=")
        if sep:
            params[key.strip().lower()] = value.strip().strip('"')
    return media_type.strip().lower(), params


def is_json_media_type(media_type: str) -> bool:
    """Tell whether a (lower-cased) media type means JSON."""
    return media_type in ("application/json", "text/json") or media_type.endswith("+json")


def _check_attribute_name(name: str) -> None:
    # [a-z0-9]+ without a regex: names arrive lower-cased, so ASCII and alphanumeric is that.
    if not (name.isascii() and name.isalnum() and (name.islower() or name.isdigit())):
        raise EventRejected(f"{name!r} is no CloudEvents attribute name ([a-z0-9]+)")


def _binary_data(
    media_type: str, params: dict[str, str], body: bytes, *, declared: bool
) -> tuple[Any, bytes | None]:
    """The data of a binary-mode event as ``(data, data_bytes)`` (see the module's table)."""
    if not body:
        return None, None
    if not declared:
        return _undeclared_data(body)
    if is_json_media_type(media_type):
        return _json_data(media_type, body), None
    if media_type.startswith("text/"):
        return _decode_text(body, params.get("charset", "utf-8")), None
    return None, body


def _json_data(media_type: str, body: bytes) -> Any:
    """Data declared JSON (``media_type``); refused when it does not parse."""
    try:
        return _JSON_DECODER.decode(body)
    except msgspec.DecodeError as error:
        raise EventRejected(
            f"the data is declared {media_type} but is not JSON: {error}"
        ) from error


def _undeclared_data(body: bytes) -> tuple[Any, bytes | None]:
    """Data without a content type: JSON if it parses, else UTF-8 text, else bytes."""
    try:
        return _JSON_DECODER.decode(body), None
    except msgspec.DecodeError:
        pass
    try:
        return body.decode("utf-8"), None
    except UnicodeDecodeError:
        return None, body


def _decode_text(body: bytes, charset: str) -> str:
    try:
        codecs.lookup(charset)
    except LookupError as error:
        raise EventRejected(f"the data's charset {charset!r} is unknown") from error
    try:
        return body.decode(charset)
    except UnicodeDecodeError as error:
        raise EventRejected(f"the data is not valid {charset} text") from error


def _decode_structured(media_type: str, body: bytes) -> CloudEvent:
    if media_type != STRUCTURED_JSON:
        raise UnsupportedEventFormat(
            f"{media_type} is not supported: send one event per request, in binary mode or as "
            f"{STRUCTURED_JSON}"
        )
    try:
        document = _OBJECT_DECODER.decode(body)
    except msgspec.DecodeError as error:
        raise EventRejected(f"the structured event is not a JSON object: {error}") from error
    has_data = "data" in document
    data = document.pop("data", None)
    encoded = document.pop("data_base64", None)
    data_bytes: bytes | None = None
    if encoded is not None:
        if has_data:
            raise EventRejected("a structured event has either data or data_base64, not both")
        data_bytes = _decode_base64(encoded)
    # A null attribute is an absent attribute in the JSON format.
    attributes = {name: value for name, value in document.items() if value is not None}
    core, extensions = _split_attributes(attributes)
    content_type = core.get("datacontenttype")
    kafka_headers = kafka_headers_of(extensions)
    return _build_event(core, extensions, kafka_headers, content_type, data, data_bytes)


def _decode_base64(encoded: object) -> bytes:
    if not isinstance(encoded, str):
        raise EventRejected("data_base64 must be a string")
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error as error:
        raise EventRejected(f"data_base64 is not Base64: {error}") from error


def _split_attributes(
    attributes: dict[str, Any],
) -> tuple[dict[str, str], dict[str, ExtensionValue]]:
    core: dict[str, str] = {}
    extensions: dict[str, ExtensionValue] = {}
    for name, value in attributes.items():
        _check_attribute_name(name)
        if name in CORE_ATTRIBUTES:
            if not isinstance(value, str):
                raise EventRejected(f"the attribute {name} must be a string")
            core[name] = value
        elif isinstance(value, str | int):
            extensions[name] = value
        else:
            raise EventRejected(f"the extension {name} must be a string, an integer or a boolean")
    return core, extensions


def _build_event(  # noqa: PLR0917 - positional: this runs for every event
    core: dict[str, str],
    extensions: dict[str, ExtensionValue],
    kafka_headers: dict[str, ExtensionValue],
    content_type: str | None,
    data: Any,
    data_bytes: bytes | None,
    /,
) -> CloudEvent:
    get = core.get
    specversion = get("specversion")
    if specversion != SPEC_VERSION:
        raise EventRejected(f"specversion {specversion!r} is not supported: send {SPEC_VERSION}")
    event_id, source, event_type = get("id"), get("source"), get("type")
    if not event_id or not source or not event_type:
        missing = next(name for name in ("id", "source", "type") if not get(name))
        raise EventRejected(f"the required attribute {missing} is missing or empty")
    time = get("time")
    return CloudEvent(
        specversion=SPEC_VERSION,
        id=event_id,
        source=source,
        type=event_type,
        subject=get("subject"),
        time=time,
        datacontenttype=content_type,
        dataschema=get("dataschema"),
        extensions=extensions,
        kafka_headers=kafka_headers,
        data=data,
        data_bytes=data_bytes,
        timestamp=None if time is None else parse_time(time),
    )


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 timestamp: msgspec's C parser first, :func:`check_rfc3339` for the rest.

    msgspec reads the common forms in a fraction of the time; what it refuses (a leap second,
    a missing offset, nonsense) goes through the full check, which accepts or explains.
    """
    try:
        parsed = msgspec.convert(text, datetime)
    except msgspec.ValidationError:
        return check_rfc3339(text)
    return parsed if parsed.tzinfo is not None else check_rfc3339(text)


def check_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 timestamp (any of its forms); raise :class:`EventRejected` if it is none.

    A leap second (``:60``) is accepted and read as ``:59``, since ``datetime`` cannot hold it.
    """
    match = _RFC3339.match(text)
    if match is None:
        raise EventRejected(f"time {text!r} is not an RFC 3339 timestamp")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    second = "59" if second == "60" else second
    offset = "+00:00" if offset in ("Z", "z") else offset
    normalised = f"{year}-{month}-{day}T{hour}:{minute}:{second}{(fraction or '')[:7]}{offset}"
    try:
        return datetime.fromisoformat(normalised)
    except ValueError as error:
        raise EventRejected(f"time {text!r} is not a valid date and time: {error}") from error
