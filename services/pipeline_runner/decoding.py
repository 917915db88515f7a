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
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final

import msgspec

from pipeline_runner.errors import EventRejected, UnsupportedEventFormat
from pipeline_runner.event import CORE_ATTRIBUTES, CloudEvent, ExtensionValue

SPEC_VERSION: Final = "1.0"
STRUCTURED_JSON: Final = "application/cloudevents+json"
_STRUCTURED_PREFIX: Final = "application/cloudevents"
_HEADER_PREFIX: Final = b"ce-"
_ATTRIBUTE_NAME = re.compile(r"^[a-z0-9]+$")
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
_JSON_DECODER = msgspec.json.Decoder()
_OBJECT_DECODER = msgspec.json.Decoder(dict[str, Any])

RawHeaders = Iterable[tuple[bytes, bytes]]
"""ASGI's ``scope["headers"]``: lower-cased names and values as raw bytes."""


def decode_event(headers: RawHeaders, body: bytes) -> CloudEvent:
    """Read the CloudEvent of a request in binary or structured content mode.

    Raises:
        UnsupportedEventFormat: batched mode or a non-JSON event format.
        EventRejected: anything else that is not a valid CloudEvents 1.0 event.
    """
    content_type: str | None = None
    attributes: dict[str, str] = {}
    for raw_name, raw_value in headers:
        if raw_name == b"content-type":
            content_type = _header_text(raw_name, raw_value)
        elif raw_name.startswith(_HEADER_PREFIX):
            name = raw_name[len(_HEADER_PREFIX) :].decode("latin-1").lower()
            if name in attributes:
                raise EventRejected(f"the header ce-{name} appears twice")
            attributes[name] = _header_text(raw_name, raw_value)
    media_type, params = parse_media_type(content_type)
    if media_type.startswith(_STRUCTURED_PREFIX):
        return _decode_structured(media_type, body)
    if "specversion" not in attributes:
        raise EventRejected(
            "not a CloudEvent: send binary mode (ce-specversion, ce-id, ce-source, ce-type "
            f"headers) or structured mode (Content-Type: {STRUCTURED_JSON})"
        )
    return _decode_binary(attributes, content_type, media_type, params, body)


def parse_media_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    """Split ``text/plain; charset=utf-8`` into ``("text/plain", {"charset": "utf-8"})``."""
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


def _header_text(name: bytes, value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as error:
        raise EventRejected(f"the header {name.decode('latin-1')} is not UTF-8") from error


def _decode_binary(
    attributes: dict[str, str],
    content_type: str | None,
    media_type: str,
    params: dict[str, str],
    body: bytes,
) -> CloudEvent:
    # datacontenttype travels as Content-Type; a stray ce-datacontenttype only fills a gap.
    declared = attributes.pop("datacontenttype", None)
    if content_type is None and declared is not None:
        content_type = declared
        media_type, params = parse_media_type(declared)
    data, data_bytes = _binary_data(media_type, params, body, declared=content_type is not None)
    core, extensions = _split_attributes(dict(attributes))
    return _build_event(core, extensions, content_type, data, data_bytes)


def _binary_data(
    media_type: str, params: dict[str, str], body: bytes, *, declared: bool
) -> tuple[Any, bytes | None]:
    """The data of a binary-mode event as ``(data, data_bytes)`` (see the module's table)."""
    if not body:
        return None, None
    if not declared:
        return _undeclared_data(body)
    if is_json_media_type(media_type):
        try:
            return _JSON_DECODER.decode(body), None
        except msgspec.DecodeError as error:
            raise EventRejected(
                f"the data is declared {media_type} but is not JSON: {error}"
            ) from error
    if media_type.startswith("text/"):
        return _decode_text(body, params.get("charset", "utf-8")), None
    return None, body


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
    return _build_event(core, extensions, content_type, data, data_bytes)


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
        if not _ATTRIBUTE_NAME.match(name):
            raise EventRejected(f"{name!r} is no CloudEvents attribute name ([a-z0-9]+)")
        if name in CORE_ATTRIBUTES:
            if not isinstance(value, str):
                raise EventRejected(f"the attribute {name} must be a string")
            core[name] = value
        elif isinstance(value, str | int):
            extensions[name] = value
        else:
            raise EventRejected(f"the extension {name} must be a string, an integer or a boolean")
    return core, extensions


def _build_event(
    core: dict[str, str],
    extensions: dict[str, ExtensionValue],
    content_type: str | None,
    data: Any,
    data_bytes: bytes | None,
) -> CloudEvent:
    specversion = core.get("specversion")
    if specversion != SPEC_VERSION:
        raise EventRejected(f"specversion {specversion!r} is not supported: send {SPEC_VERSION}")
    for name in ("id", "source", "type"):
        if not core.get(name):
            raise EventRejected(f"the required attribute {name} is missing or empty")
    time = core.get("time")
    timestamp = None if time is None else check_rfc3339(time)
    return CloudEvent(
        specversion=specversion,
        id=core["id"],
        source=core["source"],
        type=core["type"],
        subject=core.get("subject"),
        time=time,
        datacontenttype=content_type,
        dataschema=core.get("dataschema"),
        extensions=extensions,
        data=data,
        data_bytes=data_bytes,
        timestamp=timestamp,
    )


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
