"""List+watch per kind, feeding the readiness cache: kopf's three layers, plus a cache's needs.

    ReadinessWatcher            owns one named task per kind; started and stopped by the lifespan
      1. _KindWatch.run         forever: a session; after a failure, capped full-jitter backoff;
                                after a 410 Gone, straight back to a fresh list
      2. _KindWatch._session    paginated list (label-selected) -> sink.on_snapshot(objects, rv);
                                then watch from rv, again and again: an ordinary end (the server
                                timeout, a dropped connection) re-watches from the last version
                                seen (events and bookmarks move it) WITHOUT re-listing;
                                transient failures back off and re-watch from there too
      3. _KindWatch._watch      one watch request: bookmarks, `timeout_seconds` on the server, a
                                read timeout above it, and an inactivity guard (reset per event)

Errors, translated once at this boundary (`client.translate`)::

    Gone                 410: our resourceVersion was compacted away -> re-list (layer 1);
                         never resume from a made-up version, or events are silently lost
    TriggerError         from events_api.triggers.errors
    ├── BackendUnavailable   connection errors, timeouts, inactivity, 429, 5xx -> back off and
    │                        re-watch from the last version (layer 2)
    ├── MissingApi           404 on a list: the CRD is not installed -> reported to the sink
    ├── PermissionDenied     403: names the missing permission -> reported to the sink
    └── TriggerRejected      anything else -> back off and re-list (layer 1)

The library's own 410 retry (once, with the same stale version) is off because we always pass
`timeout_seconds`; a 410 ERROR event is raised by kubernetes_asyncio as an `ApiException`.
Each `Watch` creates its own ApiClient: it is closed with the stream (`async with`).
"""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, NoReturn, Protocol, Self, TypeVar

import aiohttp
from kubernetes_asyncio import client, watch
from kubernetes_asyncio.client.exceptions import ApiException

from events_api.triggers.backoff import Backoff, Random
from events_api.triggers.errors import (
    BackendUnavailable,
    MissingApi,
    PermissionDenied,
    TriggerError,
)
from events_api.triggers.knative.client import translate
from events_api.triggers.knative.kinds import KAFKA_SINK, SERVICE, Kind, kafka_source
from events_api.triggers.knative.labels import MANAGED_SELECTOR
from events_api.triggers.knative.readiness import (
    EventType,
    ObjectSummary,
    RawObject,
    ReadinessCache,
    summarize,
)
from events_api.triggers.knative.settings import KnativeSettings

log = logging.getLogger(__name__)

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)

Sleep = Callable[[float], Awaitable[None]]

_GONE = 410
_NOT_FOUND = 404
_EVENT_TYPES: dict[str, EventType] = {
    "ADDED": "ADDED",
    "MODIFIED": "MODIFIED",
    "DELETED": "DELETED",
}


class WatchSink(Protocol[T_contra]):
    """Where a kind's list and watch deliver (the `ReadinessCache`)."""

    def on_snapshot(self, kind: Kind, objects: Sequence[T_contra], resource_version: str) -> object:
        """A complete list of `kind` at `resource_version`: replace what you hold."""

    def on_event(self, kind: Kind, event_type: EventType, obj: T_contra) -> object:
        """One ADDED, MODIFIED or DELETED event."""

    def on_unavailable(self, kind: Kind, problem: TriggerError) -> object:
        """`kind` cannot be listed or watched: `MissingApi` or `PermissionDenied`."""


class Gone(Exception):
    """The resourceVersion we resume from is too old (410 Gone): only a re-list recovers."""


@dataclass
class WatchStats:
    """What one kind's watch has done so far (for tests, metrics and logs).

    Attributes:
        lists: complete lists delivered (the first one syncs the kind).
        gone: 410 Gone answers, each followed by a re-list.
        rewatches: watch requests renewed from the last version, without re-listing.
        failures: failed requests (lists and watches), each followed by a backoff.
        events: watch events delivered (bookmarks excluded).
    """

    lists: int = 0
    gone: int = 0
    rewatches: int = 0
    failures: int = 0
    events: int = 0

    @property
    def relists(self) -> int:
        """Lists after the first one."""
        return max(0, self.lists - 1)


def _is_gone(error: ApiException) -> bool:
    return error.status == _GONE


class _KindWatch(Generic[T]):
    """List+watch of one kind, delivering `transform(object)` to a sink."""

    def __init__(
        self,
        api: client.ApiClient,
        kind: Kind,
        sink: WatchSink[T],
        transform: Callable[[RawObject], T],
        *,
        settings: KnativeSettings,
        random: Random,
        sleep: Sleep,
    ) -> None:
        self.kind = kind
        self.stats = WatchStats()
        self._objects = client.CustomObjectsApi(api)
        self._sink = sink
        self._transform = transform
        self._settings = settings
        self._backoff = Backoff(cap=settings.watch_backoff_max_seconds)
        self._random = random
        self._sleep = sleep
        self._version = ""

    # Layer 1: forever ----------------------------------------------------------------------

    async def run(self) -> NoReturn:
        """List and watch until cancelled, backing off after failures."""
        failures = 0
        while True:
            lists = self.stats.lists
            try:
                await self._session()
            except Gone:
                self.stats.gone += 1
                log.info(
                    "%s: resourceVersion %s is gone (410); re-listing",
                    self.kind.kind,
                    self._version,
                )
                if self.stats.lists > lists:
                    failures = 0
                    continue
            except TriggerError as error:
                self._report(error)
            # A bug or a malformed answer must not end the cache's only source of news: log it
            # with its traceback and start over after a backoff, as for any other failure.
            except Exception:
                log.exception("%s: the watch failed unexpectedly; retrying", self.kind.kind)
            self.stats.failures += 1
            failures = 1 if self.stats.lists > lists else failures + 1
            await self._sleep(self._backoff.delay(failures, random=self._random))

    def _report(self, error: TriggerError) -> None:
        if isinstance(error, MissingApi | PermissionDenied):
            log.error("%s: cannot list or watch: %s", self.kind.kind, error)
            self._sink.on_unavailable(self.kind, error)
        else:
            log.warning("%s: the list or watch failed: %s; retrying", self.kind.kind, error)

    # Layer 2: one list, then watches from its version ------------------------------------------

    async def _session(self) -> NoReturn:
        """List, then watch from the list's version for as long as that version is valid."""
        objects, self._version = await self._list()
        self._sink.on_snapshot(self.kind, objects, self._version)
        self.stats.lists += 1
        failures = 0
        while True:
            events = self.stats.events
            try:
                await self._watch()
            except BackendUnavailable as error:
                self.stats.failures += 1
                failures = 1 if self.stats.events > events else failures + 1
                log.warning(
                    "%s: watch interrupted (%s); resuming from %s",
                    self.kind.kind,
                    error,
                    self._version,
                )
                await self._sleep(self._backoff.delay(failures, random=self._random))
            else:
                failures = 0
            self.stats.rewatches += 1

    async def _list(self) -> tuple[list[T], str]:
        """Every managed object of the kind, page by page, and the list's resourceVersion."""
        kind, objects = self.kind, list[T]()
        token: str | None = None
        while True:
            # The first page has no continue token: an empty one is not the same request.
            more: dict[str, Any] = {} if token is None else {"_continue": token}
            try:
                page = await self._objects.list_namespaced_custom_object(
                    kind.group,
                    kind.version,
                    self._settings.namespace,
                    kind.plural,
                    label_selector=MANAGED_SELECTOR,
                    limit=self._settings.list_page_size,
                    _request_timeout=self._settings.request_timeout_seconds,
                    **more,
                )
            except ApiException as error:
                # An expired continue token (compaction during a long list) is a 410 too.
                if _is_gone(error):
                    raise Gone(str(error.reason)) from error
                # A list names no object that could be absent: a 404 is the API itself missing
                # (as plain text "404 page not found" when its whole group is unknown).
                if error.status == _NOT_FOUND:
                    raise MissingApi([f"{kind.plural}.{kind.group}/{kind.version}"]) from error
                raise self._translate(error, verb="list") from error
            except (TimeoutError, aiohttp.ClientError) as error:
                raise self._translate(error, verb="list") from error
            # Summarize page by page: the raw page is dropped before the next one arrives.
            objects.extend(self._transform(item) for item in page["items"])
            token = page["metadata"].get("continue")
            if not token:
                return objects, str(page["metadata"]["resourceVersion"])

    # Layer 3: one watch request ------------------------------------------------------------

    async def _watch(self) -> None:
        """Stream events from `self._version` until the server ends the request."""
        settings = self._settings
        try:
            async with watch.Watch() as stream, asyncio.timeout(None) as guard:
                events = stream.stream(
                    self._objects.list_namespaced_custom_object,
                    self.kind.group,
                    self.kind.version,
                    settings.namespace,
                    self.kind.plural,
                    label_selector=MANAGED_SELECTOR,
                    resource_version=self._version,
                    allow_watch_bookmarks=True,
                    timeout_seconds=settings.watch_timeout_seconds,
                    # Connect timeout, then a read timeout past the server's own end.
                    _request_timeout=(
                        settings.request_timeout_seconds,
                        settings.watch_timeout_seconds + settings.request_timeout_seconds,
                    ),
                )
                loop = asyncio.get_running_loop()
                guard.reschedule(loop.time() + settings.watch_inactivity_seconds)
                async for event in events:
                    guard.reschedule(loop.time() + settings.watch_inactivity_seconds)
                    self._deliver(event)
        except ApiException as error:
            if _is_gone(error):
                raise Gone(str(error.reason)) from error
            raise self._translate(error, verb="watch") from error
        except (TimeoutError, aiohttp.ClientError) as error:
            raise self._translate(error, verb="watch") from error

    def _deliver(self, event: dict[str, Any]) -> None:
        raw: RawObject = event["raw_object"]
        event_type = _EVENT_TYPES.get(str(event["type"]))
        # Bookmarks (and any type we do not know) only move the version we resume from.
        if event_type is not None:
            self._sink.on_event(self.kind, event_type, self._transform(raw))
            self.stats.events += 1
        self._version = str(raw["metadata"]["resourceVersion"])

    def _translate(self, error: Exception, *, verb: str) -> TriggerError:
        return translate(error, verb=verb, kind=self.kind, namespace=self._settings.namespace)


def watched_kinds(settings: KnativeSettings) -> tuple[Kind, ...]:
    """The kinds whose readiness the cache keeps: Service, KafkaSource (at the set version),
    KafkaSink."""
    return SERVICE, kafka_source(settings.kafka_source_version), KAFKA_SINK


class ReadinessWatcher:
    """Keeps a `ReadinessCache` current: one list+watch task per kind, owned and stopped.

    Use as an async context manager (in the app's lifespan). Leaving it cancels and awaits the
    tasks; `stop()` is safe to call twice. The `ApiClient` stays the caller's to close.
    """

    def __init__(
        self,
        api: client.ApiClient,
        *,
        settings: KnativeSettings,
        cache: ReadinessCache | None = None,
        random: Random = random.random,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """Watch `watched_kinds(settings)` into `cache` (a new one by default)."""
        kinds = watched_kinds(settings)
        self.cache = cache if cache is not None else ReadinessCache(kinds)
        for kind in kinds:
            # Fail here, not in a task's loop: the cache must keep every kind we watch.
            self.cache.synced(kind)
        self._watches: dict[Kind, _KindWatch[ObjectSummary]] = {
            kind: _KindWatch(
                api, kind, self.cache, summarize, settings=settings, random=random, sleep=sleep
            )
            for kind in kinds
        }
        self._tasks: list[asyncio.Task[NoReturn]] = []

    def stats(self, kind: Kind) -> WatchStats:
        """What `kind`'s watch has done so far."""
        return self._watches[kind].stats

    async def __aenter__(self) -> Self:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def start(self) -> None:
        """Start one task per kind (named `readiness-watch-<plural>`)."""
        if self._tasks:
            raise RuntimeError("the readiness watcher is already running")
        self._tasks = [
            asyncio.create_task(kind_watch.run(), name=f"readiness-watch-{kind.plural}")
            for kind, kind_watch in self._watches.items()
        ]

    async def stop(self) -> None:
        """Cancel the tasks and wait until they have ended."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        # return_exceptions: a task's cancellation must not stop us from awaiting the others,
        # yet our own cancellation still propagates.
        await asyncio.gather(*tasks, return_exceptions=True)
