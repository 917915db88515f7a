"""The Knative trigger backend: a Knative Service per pipeline, fed by a KafkaSource.

Start is replace, and loses nothing: deleting a KafkaSource deletes its consumer group's offsets,
so a restart never deletes; it replaces the Service in place (a new revision, forced by a fresh
`started-at` annotation) and the source and dead-letter sink in place, all owned by the Service.
`reset=True` is the documentation's literal delete-then-create, offsets lost. Every write's
response goes through to the readiness cache, which answers status without calling the cluster.
"""

from events_api.triggers.errors import MissingApi
from events_api.triggers.knative.client import KnativeClient
from events_api.triggers.knative.converging import Converger
from events_api.triggers.knative.kinds import KAFKA_SINK, SERVICE, Kind, kafka_source
from events_api.triggers.knative.object_metadata import ServiceOwner
from events_api.triggers.knative.readiness import ObjectSummary, ReadinessCache
from events_api.triggers.knative.service_manifest import build_service
from events_api.triggers.knative.settings import KnativeSettings
from events_api.triggers.knative.sink_manifest import DEAD_LETTER_SUFFIX, build_kafka_sink
from events_api.triggers.knative.source_manifest import build_kafka_source
from events_api.triggers.protocol import StartOutcome, StartRequest
from pipeline_models import PipelineId, TenantId, TriggerStatus, service_name


def status_from(service: ObjectSummary, source: ObjectSummary | None) -> TriggerStatus:
    """A trigger's status from the cached Service and KafkaSource."""
    version = int(service.version) if service.version and service.version.isdigit() else None
    return TriggerStatus(
        ready=service.ready is True and not service.deleting,
        source_ready=source is not None and source.ready is True,
        pipeline_version=version,
        url=service.url,
        reason=service.reason,
        message=service.message,
        generation=service.generation,
        observed_generation=service.observed_generation,
    )


class KnativeTriggerBackend:
    """Start, stop and report triggers as Knative objects in one namespace."""

    def __init__(
        self, client: KnativeClient, cache: ReadinessCache, *, settings: KnativeSettings
    ) -> None:
        self._client = client
        self._cache = cache
        self._settings = settings
        self._source = kafka_source(settings.kafka_source_version)
        self._converger = Converger(
            client, write_through=cache.write_through, forget=cache.write_through_delete
        )

    @property
    def kinds(self) -> tuple[Kind, ...]:
        """The kinds this backend manages (and watches)."""
        return (SERVICE, self._source, KAFKA_SINK)

    @property
    def ready(self) -> bool:
        """Whether every kind is settled: listed, or known to be unavailable.

        A missing CRD must not keep the pod unready: then the API could never answer the 503
        that names what to install.
        """
        return all(
            self._cache.synced(kind) or self._cache.unavailable(kind) is not None
            for kind in self.kinds
        )

    async def wait_until_synced(self) -> None:
        """Return once the cache has completed its first list of every kind."""
        await self._cache.wait_until_synced()

    def missing_apis(self) -> list[str]:
        """The kinds whose API the cluster does not serve."""
        return [f"{kind.plural}.{kind.group}/{kind.version}" for kind in self._cache.missing_apis()]

    def _check_apis(self) -> None:
        missing = self.missing_apis()
        if missing:
            raise MissingApi(missing)

    async def start(self, request: StartRequest) -> StartOutcome:
        """Converge the Service, dead-letter sink and source onto `request.version`."""
        self._check_apis()
        version, settings = request.version, self._settings
        name = service_name(version.pipeline_id)
        service_manifest = build_service(
            version, tenant=request.tenant, settings=settings, started_at=request.started_at
        )
        if request.reset:
            await self._delete_all(name)
        service = await self._converger.converge(SERVICE, service_manifest)
        owner = ServiceOwner(name=name, uid=service["metadata"]["uid"])
        sink = build_kafka_sink(version, tenant=request.tenant, settings=settings, owner=owner)
        if sink is None:
            await self._converger.delete(KAFKA_SINK, name + DEAD_LETTER_SUFFIX)
        else:
            await self._converger.converge(KAFKA_SINK, sink, owner_uid=owner.uid)
        source = build_kafka_source(version, tenant=request.tenant, settings=settings, owner=owner)
        await self._converger.converge(self._source, source, owner_uid=owner.uid)
        return StartOutcome(dead_letter=_dead_letter_of(source), offsets_reset=request.reset)

    async def _delete_all(self, name: str) -> None:
        """The literal delete-then-create's first half: everything gone, offsets included."""
        doomed = ((self._source, name), (KAFKA_SINK, name + DEAD_LETTER_SUFFIX), (SERVICE, name))
        for kind, object_name in doomed:
            current = await self._client.get(kind, object_name)
            if current is not None:
                uid = current["metadata"]["uid"]
                await self._converger.delete(kind, object_name, uid=uid)
                await self._converger.wait_gone(kind, object_name, uid=uid)

    async def stop(self, tenant: TenantId, pipeline_id: PipelineId) -> bool:
        """Delete the source, sink and Service; False when none existed."""
        self._check_apis()
        name = service_name(pipeline_id)
        deleted = [
            await self._converger.delete(self._source, name),
            await self._converger.delete(KAFKA_SINK, name + DEAD_LETTER_SUFFIX),
            await self._converger.delete(SERVICE, name),
        ]
        return any(deleted)

    def status(self, tenant: TenantId, pipeline_id: PipelineId) -> TriggerStatus | None:
        """From the cache only: the Service's readiness for its generation, and the source's."""
        name = service_name(pipeline_id)
        service = self._cache.get(SERVICE, name)
        if service is None:
            return None
        return status_from(service, self._cache.get(self._source, name))

    async def wait_until_ready(
        self, tenant: TenantId, pipeline_id: PipelineId, *, version: int, wait_seconds: float
    ) -> None:
        """Wait on the cache (no polling) until the Service runs `version` and is Ready."""

        def ready(summary: ObjectSummary | None) -> bool:
            return (
                summary is not None
                and summary.ready is True
                and not summary.deleting
                and summary.version == str(version)
            )

        await self._cache.wait_for(SERVICE, service_name(pipeline_id), ready, timeout=wait_seconds)


def _dead_letter_of(source: dict[str, object]) -> str | None:
    spec = source.get("spec")
    delivery = spec.get("delivery") if isinstance(spec, dict) else None
    sink = delivery.get("deadLetterSink") if isinstance(delivery, dict) else None
    if not isinstance(sink, dict):
        return None
    if "uri" in sink:
        return str(sink["uri"])
    ref = sink.get("ref")
    return f"{ref.get('kind')}/{ref.get('name')}" if isinstance(ref, dict) else None
