"""The ``kafka`` step: produce one record; publishes ``{"topic", "partition", "offset"}``.

``format: json`` writes the rendered value as JSON (header ``content-type: application/json``,
so a KafkaSource reading the topic hands it on with that content type). ``format: cloudevent``
writes a structured-mode CloudEvent wrapping the value (header ``content-type:
application/cloudevents+json``), with ``source`` ``/pipelines/<pipeline id>/steps/<step id>``
and an ``id`` derived from the triggering event's ``source`` and ``id`` and the step: a
redelivered event produces a record with the *same* id, so consumers can drop the duplicate.
"""

import uuid
from datetime import UTC, datetime
from typing import Any, Protocol

import msgspec

from pipeline_models import KafkaStep, PipelineId, compile_value
from pipeline_runner.producing import Headers
from pipeline_runner.steps.rendering import (
    Scope,
    compile_text,
    render_text,
    render_text_map,
    render_value,
)

CLOUDEVENT_TYPE = "dev.pipeline-events.record"
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
        key = None if self._key is None else render_text(self._key, scope).encode()
        headers = [(n, v.encode()) for n, v in render_text_map(self._headers, scope).items()]
        if self._step.format == "cloudevent":
            payload = self._wrap(value, scope["event"])
            content_type = b"application/cloudevents+json"
        else:
            payload = _ENCODER.encode(value)
            content_type = b"application/json"
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers.append(("content-type", content_type))
        return await self._producer.send(self._step.topic, value=payload, key=key, headers=headers)

    def _wrap(self, value: Any, event: dict[str, Any]) -> bytes:
        name = f"{event['source']}\n{event['id']}\n{self._step.id}"
        return _ENCODER.encode(
            {
                "specversion": "1.0",
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
                "source": self._source,
                "type": CLOUDEVENT_TYPE,
                "time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "datacontenttype": "application/json",
                "data": value,
            }
        )
