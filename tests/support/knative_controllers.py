"""A stand-in for Knative's controllers in a test apiserver, which has none.

It does what the product depends on and nothing more:

* writes status: a Service's Ready condition (True, False or Unknown, with reason and message),
  `observedGeneration`, `url`, `address`, revision names; a KafkaSource's or KafkaSink's Ready;
* holds the KafkaSource finalizer like the Kafka controller: added when a source appears, removed
  `finalizer_delay` seconds after the source is marked for deletion;
* garbage-collects by ownerReference uid: when an owner is deleted, its dependents are deleted
  (there is no controller-manager to do it).

Use it as an async context manager; its watch tasks are owned, named and stopped on exit.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import aiohttp
from kubernetes_asyncio import client, watch
from kubernetes_asyncio.client.exceptions import ApiException

from events_api.triggers.knative.kinds import Kind
from support.knative_objects import KAFKA_SINK, KAFKA_SOURCE, KAFKA_SOURCE_FINALIZER, SERVICE

_WATCH_SECONDS = 30
logger = logging.getLogger("support.knative_controllers")
_DEPENDENT_KINDS = (KAFKA_SOURCE, KAFKA_SINK)
# Someone else changed or deleted the object first: the watch brings what happened.
_LOST_RACE = {404, 409}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _condition(kind: str, status: str, reason: str | None, message: str | None) -> dict[str, Any]:
    condition: dict[str, Any] = {"type": kind, "status": status, "lastTransitionTime": _now()}
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message
    return condition


class KnativeControllers:
    """Plays Knative's Serving and Kafka controllers in one namespace."""

    def __init__(
        self, api: client.ApiClient, namespace: str, *, finalizer_delay: float = 0.5
    ) -> None:
        self._objects = client.CustomObjectsApi(api)
        self._namespace = namespace
        self._finalizer_delay = finalizer_delay
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> "KnativeControllers":
        self._tasks = [
            asyncio.create_task(self._watch(SERVICE, self._on_service), name="kn-services"),
            asyncio.create_task(self._watch(KAFKA_SOURCE, self._on_source), name="kn-sources"),
            asyncio.create_task(self._watch(KAFKA_SINK, self._on_sink), name="kn-sinks"),
        ]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def stop(self) -> None:
        """Stop playing the controllers (safe to call twice)."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    # Status writers --------------------------------------------------------------------------

    async def set_service_status(
        self,
        name: str,
        *,
        ready: str = "True",
        reason: str | None = None,
        message: str | None = None,
    ) -> dict[str, Any]:
        """Mark a Service Ready True/False/Unknown for its current generation."""

        def status_of(service: dict[str, Any]) -> dict[str, Any]:
            generation = service["metadata"]["generation"]
            revision = f"{name}-{generation:05d}"
            url = f"http://{name}.{self._namespace}.svc.cluster.local"
            status: dict[str, Any] = {
                "observedGeneration": generation,
                "conditions": [
                    _condition("Ready", ready, reason, message),
                    _condition("ConfigurationsReady", ready, reason, message),
                    _condition("RoutesReady", ready, reason, message),
                ],
                "latestCreatedRevisionName": revision,
            }
            if ready == "True":
                status |= {
                    "url": url,
                    "address": {"url": url},
                    "latestReadyRevisionName": revision,
                }
            return status

        return await self._write_status(SERVICE, name, status_of)

    async def set_source_status(
        self,
        name: str,
        *,
        ready: str = "True",
        reason: str | None = None,
        message: str | None = None,
    ) -> dict[str, Any]:
        """Mark a KafkaSource Ready True/False/Unknown for its current generation."""

        def status_of(source: dict[str, Any]) -> dict[str, Any]:
            return {
                "observedGeneration": source["metadata"]["generation"],
                "conditions": [
                    _condition("Ready", ready, reason, message),
                    _condition("ConsumerGroup", ready, reason, message),
                    _condition("SinkProvided", ready, reason, message),
                ],
            }

        return await self._write_status(KAFKA_SOURCE, name, status_of)

    async def set_sink_status(self, name: str, *, ready: str = "True") -> dict[str, Any]:
        """Mark a KafkaSink Ready, with the address a dead-letter sink resolves to."""
        url = (
            f"http://kafka-sink-ingress.knative-eventing.svc.cluster.local/{self._namespace}/{name}"
        )

        def status_of(sink: dict[str, Any]) -> dict[str, Any]:
            return {
                "observedGeneration": sink["metadata"]["generation"],
                "conditions": [_condition("Ready", ready, None, None)],
                "address": {"url": url},
            }

        return await self._write_status(KAFKA_SINK, name, status_of)

    # Watch loops -----------------------------------------------------------------------------

    async def _watch(self, kind: Kind, handle: Any) -> None:
        """List, then watch from the list's resourceVersion; start over after any end."""
        while True:
            try:
                listing = await self._objects.list_namespaced_custom_object(
                    kind.group, kind.version, self._namespace, kind.plural
                )
                for item in listing["items"]:
                    await handle("ADDED", item)
                version = listing["metadata"]["resourceVersion"]
                async with watch.Watch() as stream:
                    async for event in stream.stream(
                        self._objects.list_namespaced_custom_object,
                        kind.group,
                        kind.version,
                        self._namespace,
                        kind.plural,
                        resource_version=version,
                        timeout_seconds=_WATCH_SECONDS,
                        _request_timeout=_WATCH_SECONDS + 10,
                    ):
                        await handle(event["type"], event["raw_object"])
            except ApiException as error:
                if error.status not in {404, 410}:
                    raise
                # The CRD is not installed yet, or our version went stale: list again soon.
                await asyncio.sleep(0.2)
            except (aiohttp.ClientError, TimeoutError):
                # The apiserver is down (a test may stop it): keep trying, like a controller.
                await asyncio.sleep(0.2)

    async def _on_service(self, event_type: str, service: dict[str, Any]) -> None:
        if event_type == "DELETED":
            await self._collect_dependents(service["metadata"]["uid"])

    async def _on_sink(self, event_type: str, sink: dict[str, Any]) -> None:
        if event_type == "DELETED":
            await self._collect_dependents(sink["metadata"]["uid"])

    async def _on_source(self, event_type: str, source: dict[str, Any]) -> None:
        metadata = source["metadata"]
        finalizers = metadata.get("finalizers") or []
        logger.info(
            "source %s %s rv=%s deleting=%s finalizers=%s",
            event_type,
            metadata["name"],
            metadata.get("resourceVersion"),
            bool(metadata.get("deletionTimestamp")),
            finalizers,
        )
        if event_type == "DELETED":
            return
        if metadata.get("deletionTimestamp"):
            if KAFKA_SOURCE_FINALIZER in finalizers:
                # Like the Kafka controller deleting the consumer group: it takes a moment.
                await asyncio.sleep(self._finalizer_delay)
                await self._update_finalizers(metadata["name"], add=False)
        elif KAFKA_SOURCE_FINALIZER not in finalizers:
            await self._update_finalizers(metadata["name"], add=True)

    # Helpers ---------------------------------------------------------------------------------

    async def _get(self, kind: Kind, name: str) -> dict[str, Any]:
        found: dict[str, Any] = await self._objects.get_namespaced_custom_object(
            kind.group, kind.version, self._namespace, kind.plural, name
        )
        return found

    async def _write_status(
        self, kind: Kind, name: str, status_of: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> dict[str, Any]:
        """Write the status ``status_of`` gives for the object as it is now; on a conflict (our
        own finalizer update, say) read it again and retry, as a controller requeues."""
        for _ in range(20):
            current = await self._get(kind, name)
            body = {**current, "status": status_of(current)}
            try:
                written: dict[
                    str, Any
                ] = await self._objects.replace_namespaced_custom_object_status(
                    kind.group, kind.version, self._namespace, kind.plural, name, body
                )
            except ApiException as error:
                if error.status != 409:  # Conflict
                    raise
                continue
            return written
        raise RuntimeError(f"{kind.plural}/{name}: the status write kept conflicting")

    async def _update_finalizers(self, name: str, *, add: bool) -> None:
        """Add or remove our finalizer, re-reading on a conflict as a controller requeues."""
        for _ in range(20):
            try:
                source = await self._get(KAFKA_SOURCE, name)
            except ApiException as error:
                if error.status == 404:
                    return
                raise
            metadata = source["metadata"]
            finalizers = [
                f for f in metadata.get("finalizers") or [] if f != KAFKA_SOURCE_FINALIZER
            ]
            if add:
                if metadata.get("deletionTimestamp"):
                    return
                finalizers.append(KAFKA_SOURCE_FINALIZER)
            # A JSON merge patch guarded by the resourceVersion we read.
            patch = {
                "metadata": {
                    "finalizers": finalizers,
                    "resourceVersion": metadata["resourceVersion"],
                }
            }
            try:
                # For a dict body the client would pick json-patch (the first type it lists),
                # which the apiserver rejects; the merge patch must be asked for, and the bundled
                # stub does not declare `_content_type`, hence the ignore.
                await self._objects.patch_namespaced_custom_object(  # type: ignore[call-arg]
                    KAFKA_SOURCE.group,
                    KAFKA_SOURCE.version,
                    self._namespace,
                    KAFKA_SOURCE.plural,
                    name,
                    patch,
                    _content_type="application/merge-patch+json",
                )
            except ApiException as error:
                logger.info(
                    "finalizer %s on %s: %s", "add" if add else "remove", name, error.status
                )
                if error.status == 404:
                    return
                if error.status != 409:
                    raise
            else:
                logger.info("finalizer %s on %s: done", "add" if add else "remove", name)
                return

    async def _collect_dependents(self, owner_uid: str) -> None:
        """Delete every object in the namespace that the deleted owner owned."""
        for kind in _DEPENDENT_KINDS:
            listing = await self._objects.list_namespaced_custom_object(
                kind.group, kind.version, self._namespace, kind.plural
            )
            for item in listing["items"]:
                owners = item["metadata"].get("ownerReferences") or []
                if any(owner.get("uid") == owner_uid for owner in owners):
                    try:
                        await self._objects.delete_namespaced_custom_object(
                            kind.group,
                            kind.version,
                            self._namespace,
                            kind.plural,
                            item["metadata"]["name"],
                        )
                    except ApiException as error:
                        if error.status not in _LOST_RACE:
                            raise
