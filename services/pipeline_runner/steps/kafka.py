"""The ``kafka`` step: produce one record; publishes ``{"topic", "partition", "offset"}``.

``format: json`` writes the rendered value as JSON (header ``content-type: application/json``,
so a KafkaSource reading the topic hands it on with that content type).

``format: cloudevent`` writes a CloudEvent in the Kafka protocol binding's **binary mode**, built
by the CloudEvents SDK (``cloudevents.kafka.to_binary``): the attributes as ``ce_<name>``
headers, ``content-type: application/json`` (the ``datacontenttype``), the rendered value as the
JSON record value, and the step's ``key`` as the record key (the binding's ``partitionkey``).
``source`` is ``/pipelines/<pipeline id>/steps/<step id>``, ``type``
:data:`CLOUDEVENT_TYPE`, and the ``id`` is derived from the triggering event's ``source`` and
``id`` and the step: a redelivered event produces a record with the *same* id, so consumers can
drop the duplicate. A KafkaSource reading the topic forwards such a record as that CloudEvent.
The step's own headers are added unless they would change the event (``content-type``,
``ce_*``).
"""

import uuid
from datetime import UTC, datetime
from typing import Any, Final, Protocol

import msgspec
from cloudevents.http import CloudEvent as SdkEvent
from cloudevents.kafka import to_binary

from pipeline_models import KafkaStep, PipelineId
from pipeline_runner.producing import Headers
from pipeline_runner.steps.rendering import (
    Scope,
    compile_text,
    compile_value,
    render_text,
    render_text_map,
    render_value,
)

CLOUDEVENT_TYPE: Final = "dev.pipeline-events.record"
_ENCODER = msgspec.json.Encoder()


class Producer(Protocol):
    """What the step needs from :class:`pipeline_runner.producing.RecordProducer`."""

    async def send(
        self, topic: str, *, value: bytes, key: bytes | None, headers: Headers
    ) -> dict[str, Any]:
        """Produce one record; return its topic, partition and offset."""
        ...


class KafkaExecutor:
    """Renders and produces a kafka step's record."""

    def __init__(self, step: KafkaStep, *, producer: Producer, pipeline_id: PipelineId) -> None:
        self._step = step
        self._producer = producer
        self._source = f"/pipelines/{pipeline_id}/steps/{step.id}"
        self._value = compile_value(step.value)
        self._key = None if step.key is None else compile_text(step.key)
        self._headers = {name: compile_text(value) for name, value in step.headers.items()}

    async def __call__(self, scope: Scope) -> dict[str, Any]:
        """Produce the record for one event."""
        value = render_value(self._value, scope)
        key = None if self._key is None else render_text(self._key, scope)
        headers = [(n, v.encode()) for n, v in render_text_map(self._headers, scope).items()]
        if self._step.format == "cloudevent":
            payload, key_bytes, headers = self._cloudevent(value, key, headers, scope["event"])
        else:
            payload = _ENCODER.encode(value)
            key_bytes = None if key is None else key.encode()
            if not any(name.lower() == "content-type" for name, _ in headers):
                headers.append(("content-type", b"application/json"))
        return await self._producer.send(
            self._step.topic, value=payload, key=key_bytes, headers=headers
        )

    def _cloudevent(
        self, value: Any, key: str | None, headers: list[tuple[str, bytes]], event: Any
    ) -> tuple[bytes, bytes | None, list[tuple[str, bytes]]]:
        """The record of a binary-mode CloudEvent: value, key and headers."""
        name = f"{event['source']}\n{event['id']}\n{self._step.id}"
        attributes = {
            "specversion": "1.0",
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
            "source": self._source,
            "type": CLOUDEVENT_TYPE,
            "time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "datacontenttype": "application/json",
        }
        if key is not None:
            attributes["partitionkey"] = key
        message = to_binary(SdkEvent.create(attributes, value), data_marshaller=_ENCODER.encode)
        own = [
            (header, content)
            for header, content in headers
            if header.lower() != "content-type" and not header.lower().startswith("ce_")
        ]
        record_key = message.key.encode() if isinstance(message.key, str) else message.key
        value = message.value.encode() if isinstance(message.value, str) else message.value
        return value, record_key, [*message.headers.items(), *own]
