"""The readiness cache: what `GET /events/{id}` answers from, instead of asking the Kubernetes API.

It owns one store per watched kind (Service, KafkaSource, KafkaSink), each a dict from object
name to a small frozen `ObjectSummary` (never the raw object: the target is at most 2 KiB per
entry with 10,000 Services; about 0.8 KiB measured, with a long failure message), and the
rules that keep the store truthful whichever way news arrives::

    watching.py  (I/O: list+watch per kind, kopf's three layers)
      1. supervisor  forever; capped, jittered backoff between failed sessions
      2. session     paginated list -> on_snapshot; watch from its resourceVersion -> on_event;
                     re-watch after an ordinary end; 410 Gone -> back to 1 for a re-list
      3. stream      one watch request: bookmarks, server timeout, inactivity timeout
             |
             v  on_snapshot / on_event / on_unavailable
    readiness.py (this module, pure: no I/O, no Kubernetes client)
      ReadinessCache   replace on snapshot (vanished keys reported deleted), apply events,
                       write through every write's response, wake long-polls, gate /readyz
      summarize()      Knative "Ready for the current spec" semantics, as data

Ordering: news reaches the store from two sides, the watch and the responses of our own writes
(`write_through`), so a GET right after a POST or a restart shows the new generation as not
ready yet on this replica. The two can arrive in either order, so every update carries its
`resourceVersion` and an update older than what the store holds is ignored. Kubernetes calls
resourceVersions opaque; they are etcd revisions in every apiserver we run against, so they are
compared as integers when both are numeric, and a non-numeric one is simply taken as newer.
Deletions we make leave a short-lived tombstone (the uid), so a late watch event from before the
delete cannot resurrect the object; it is dropped when the watch or a list confirms the delete.
"""

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, Literal

import msgspec

from events_api.triggers.errors import MissingApi, TriggerError
from events_api.triggers.knative.kinds import Kind
from events_api.triggers.knative.labels import PIPELINE_LABEL, VERSION_LABEL

log = logging.getLogger(__name__)

RawObject = Mapping[str, Any]
"""A Kubernetes object as the custom-objects API returns it (JSON we do not model)."""

EventType = Literal["ADDED", "MODIFIED", "DELETED"]

NOT_OBSERVED: Final = "NotObserved"
"""The reason given while the controller has not reconciled the object's current generation."""

_KindKey = tuple[str, str]


class ObjectSummary(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What the cache keeps of one object: enough to answer readiness, and no more.

    Attributes:
        uid: the object's incarnation (a re-created object of the same name has another).
        name: `metadata.name`.
        resource_version: `metadata.resourceVersion` of the state summarized.
        generation: `metadata.generation`, bumped by the apiserver on every spec change.
        observed_generation: `status.observedGeneration`, the generation the controller
            last reconciled (None before the controller wrote any status).
        ready: True or False once the controller reported on the current generation; None
            while unknown (no status yet, an older generation, or Ready "Unknown").
        reason: the Ready condition's reason (or `NOT_OBSERVED`), if any.
        message: the Ready condition's message, if any.
        url: `status.url` (or `status.address.url`), if any.
        pipeline: the pipeline label (`labels.PIPELINE_LABEL`), if any.
        version: the pipeline version label (`labels.VERSION_LABEL`), if any.
        deleting: whether `metadata.deletionTimestamp` is set (finalizers still pending).
    """

    uid: str
    name: str
    resource_version: str
    generation: int = 0
    observed_generation: int | None = None
    ready: bool | None = None
    reason: str | None = None
    message: str | None = None
    url: str | None = None
    pipeline: str | None = None
    version: str | None = None
    deleting: bool = False


def _ready_condition(status: Mapping[str, Any]) -> Mapping[str, Any]:
    for condition in status.get("conditions") or ():
        if condition.get("type") == "Ready":
            found: Mapping[str, Any] = condition
            return found
    return {}


def _readiness(
    generation: int, observed: int | None, status: Mapping[str, Any]
) -> tuple[bool | None, str | None, str | None]:
    """Knative's "Ready for the current spec": observedGeneration == generation and Ready True."""
    if observed != generation:
        seen = "no status yet" if observed is None else f"status is for generation {observed}"
        return None, NOT_OBSERVED, f"generation {generation} not reconciled yet ({seen})"
    condition = _ready_condition(status)
    verdict = {"True": True, "False": False}.get(str(condition.get("status")))
    return verdict, condition.get("reason"), condition.get("message")


def _optional_int(value: object) -> int | None:
    return value if isinstance(value, int) else None


def summarize(obj: RawObject) -> ObjectSummary:
    """The summary the cache keeps of a Service, KafkaSource or KafkaSink."""
    metadata: Mapping[str, Any] = obj.get("metadata") or {}
    status: Mapping[str, Any] = obj.get("status") or {}
    labels: Mapping[str, str] = metadata.get("labels") or {}
    generation = _optional_int(metadata.get("generation")) or 0
    observed = _optional_int(status.get("observedGeneration"))
    ready, reason, message = _readiness(generation, observed, status)
    address: Mapping[str, Any] = status.get("address") or {}
    return ObjectSummary(
        uid=str(metadata.get("uid", "")),
        name=str(metadata.get("name", "")),
        resource_version=str(metadata.get("resourceVersion", "")),
        generation=generation,
        observed_generation=observed,
        ready=ready,
        reason=reason,
        message=message,
        url=status.get("url") or address.get("url"),
        pipeline=labels.get(PIPELINE_LABEL),
        version=labels.get(VERSION_LABEL),
        deleting=bool(metadata.get("deletionTimestamp")),
    )


def deleted_uid(response: RawObject) -> str | None:
    """The uid of the object a delete removed, from the delete's answer.

    A custom object deleted at once is answered with a `Status` naming it in `details`; one
    that finalizers hold back is answered with the object itself, marked for deletion.
    """
    details: Mapping[str, Any] = response.get("details") or {}
    metadata: Mapping[str, Any] = response.get("metadata") or {}
    uid = details.get("uid") or metadata.get("uid")
    return str(uid) if uid else None


def _known_newer(candidate: str, held: str) -> bool:
    """Whether `candidate` is provably newer than `held` (both numeric, and greater)."""
    return candidate.isdigit() and held.isdigit() and int(candidate) > int(held)


def is_newer(candidate: str, held: str) -> bool:
    """Whether resourceVersion `candidate` is newer than `held` (integers when both are)."""
    if candidate.isdigit() and held.isdigit():
        return int(candidate) > int(held)
    # Opaque versions cannot be ordered: the later arrival wins, as with any other cache.
    return candidate != held


DeletedCallback = Callable[[Kind, ObjectSummary], None]


def _kind_key(kind: Kind) -> _KindKey:
    # The version is left out: a KafkaSource written at v1 and watched at v1beta1 is one object.
    return kind.group, kind.kind


class _KindStore:
    """One kind's entries, its tombstones, whether it has synced and why it cannot."""

    def __init__(self, kind: Kind) -> None:
        self.kind = kind
        self.entries: dict[str, ObjectSummary] = {}
        # name -> uid of objects we deleted and the watch has not confirmed yet.
        self.tombstones: dict[str, str] = {}
        self.synced = asyncio.Event()
        self.problem: TriggerError | None = None


def _merge_snapshot(
    store: _KindStore, objects: Sequence[ObjectSummary], resource_version: str
) -> dict[str, ObjectSummary]:
    """The store's new entries: the list, minus what we deleted, plus what we wrote since."""
    tombstoned = set(store.tombstones.values())
    fresh = {summary.name: summary for summary in objects if summary.uid not in tombstoned}
    for name, held in store.entries.items():
        # Written through after the list was taken (so newer than any listed object): the watch
        # from the list's version will bring it too; until then it is the newest news.
        if _known_newer(held.resource_version, resource_version):
            fresh[name] = held
    return fresh


class ReadinessCache:
    """Per kind, name -> `ObjectSummary`, kept by the watches and our own writes.

    Implements the `watching.WatchSink` protocol (`on_snapshot`, `on_event`, `on_unavailable`).
    """

    def __init__(self, kinds: Iterable[Kind], *, on_deleted: DeletedCallback | None = None) -> None:
        """A cache for `kinds`; `on_deleted` hears of every object that left a store."""
        self._stores = {_kind_key(kind): _KindStore(kind) for kind in kinds}
        self._on_deleted = on_deleted
        self._waiters: dict[tuple[_KindKey, str], set[asyncio.Event]] = {}

    # Reading ----------------------------------------------------------------------------------

    @property
    def kinds(self) -> tuple[Kind, ...]:
        """The kinds this cache keeps."""
        return tuple(store.kind for store in self._stores.values())

    def get(self, kind: Kind, name: str) -> ObjectSummary | None:
        """The summary of `kind` named `name`, or None when the cache knows of none."""
        return self._store(kind).entries.get(name)

    def names(self, kind: Kind) -> frozenset[str]:
        """The names of every `kind` object in the cache."""
        return frozenset(self._store(kind).entries)

    def __len__(self) -> int:
        return sum(len(store.entries) for store in self._stores.values())

    def synced(self, kind: Kind) -> bool:
        """Whether `kind`'s first list has been applied."""
        return self._store(kind).synced.is_set()

    def all_synced(self) -> bool:
        """Whether every kind's first list has been applied (`/readyz` waits for this)."""
        return all(store.synced.is_set() for store in self._stores.values())

    async def wait_until_synced(self, *kinds: Kind) -> None:
        """Return once the first list of `kinds` (default: all) has been applied.

        Bound it with a timeout: a kind whose API is missing never syncs.
        """
        stores = [self._store(kind) for kind in kinds] or list(self._stores.values())
        for store in stores:
            await store.synced.wait()

    def unavailable(self, kind: Kind) -> TriggerError | None:
        """Why `kind` cannot be watched (`MissingApi`, `PermissionDenied`…), or None."""
        return self._store(kind).problem

    def missing_apis(self) -> tuple[Kind, ...]:
        """The kinds whose list answered that the API (the CRD) is not installed."""
        return tuple(
            store.kind for store in self._stores.values() if isinstance(store.problem, MissingApi)
        )

    async def wait_for(
        self,
        kind: Kind,
        name: str,
        predicate: Callable[[ObjectSummary | None], bool],
        *,
        timeout: float,  # noqa: ASYNC109 - a long-poll's bound is part of the question
    ) -> ObjectSummary | None:
        """Wait until `predicate` holds for the entry (None = absent), at most `timeout` seconds.

        Woken by each change of that entry, never by polling. Returns the entry when the
        predicate holds, else the current entry once `timeout` has passed: check the predicate
        again to tell which (a long-poll answers the current state either way).
        """
        key = (_kind_key(kind), name)
        changed = asyncio.Event()
        waiters = self._waiters.setdefault(key, set())
        waiters.add(changed)
        try:
            async with asyncio.timeout(timeout):
                while not predicate(self.get(kind, name)):
                    await changed.wait()
                    changed.clear()
        except TimeoutError:
            pass
        finally:
            waiters.discard(changed)
            if not waiters:
                del self._waiters[key]
        return self.get(kind, name)

    # The watch's side (watching.WatchSink) ---------------------------------------------------

    def on_snapshot(
        self, kind: Kind, objects: Sequence[ObjectSummary], resource_version: str
    ) -> list[ObjectSummary]:
        """Replace `kind`'s store with a complete list taken at `resource_version`.

        Entries written through after the list (newer than it) are kept: the watch that follows
        the list will confirm them. Entries that vanished are reported as deleted.

        Returns:
            The entries that vanished.
        """
        store = self._store(kind)
        listed = {summary.uid for summary in objects}
        # A tombstone whose object the list no longer holds is confirmed: forget it.
        store.tombstones = {n: u for n, u in store.tombstones.items() if u in listed}
        fresh = _merge_snapshot(store, objects, resource_version)
        vanished = [held for name, held in store.entries.items() if name not in fresh]
        changed = {n for n, s in fresh.items() if store.entries.get(n) != s}
        changed.update(summary.name for summary in vanished)
        store.entries = fresh
        store.problem = None
        store.synced.set()
        log.info(
            "listed %s: %d objects at resourceVersion %s, %d vanished",
            kind.kind,
            len(fresh),
            resource_version,
            len(vanished),
            extra={"fields": {"kind": kind.kind, "vanished": [s.name for s in vanished]}},
        )
        for summary in vanished:
            self._report_deleted(store, summary)
        self._wake(kind, changed)
        return vanished

    def on_event(self, kind: Kind, event_type: EventType, summary: ObjectSummary) -> bool:
        """Apply a watch event; False when it is older than what the store holds (ignored)."""
        if event_type == "DELETED":
            return self._remove(kind, summary)
        return self._put(kind, summary)

    def on_unavailable(self, kind: Kind, problem: TriggerError) -> None:
        """Record why `kind` cannot be listed or watched (cleared by its next list)."""
        self._store(kind).problem = problem

    # Our writes' side ---------------------------------------------------------------------------

    def write_through(self, obj: RawObject) -> ObjectSummary:
        """Apply the response of a create, patch or update (unless the watch brought newer)."""
        kind = self._kind_of(obj)
        summary = summarize(obj)
        self._put(kind, summary)
        return self.get(kind, summary.name) or summary

    def write_through_delete(self, kind: Kind, name: str, uid: str | None = None) -> None:
        """Apply a delete of `name` that the apiserver accepted (incarnation `uid`, if known).

        Take `uid` from the delete's answer with `deleted_uid`. The entry goes at once, even
        while finalizers keep the object terminating: we asked for it to go. Late watch events
        about that incarnation are ignored until the watch (or a list) confirms the delete.
        Without a uid, whatever incarnation the cache holds is taken as the one deleted.
        """
        store = self._store(kind)
        held = store.entries.get(name)
        if not uid:
            if held is None:
                return
            uid = held.uid
        store.tombstones[name] = uid
        if held is not None and held.uid == uid:
            del store.entries[name]
            self._report_deleted(store, held)
            self._wake(kind, {name})

    # Internals ----------------------------------------------------------------------------------

    def _store(self, kind: Kind) -> _KindStore:
        try:
            return self._stores[_kind_key(kind)]
        except KeyError:
            raise ValueError(f"the readiness cache does not keep {kind.kind} objects") from None

    def _kind_of(self, obj: RawObject) -> Kind:
        group = str(obj.get("apiVersion", "")).partition("/")[0]
        store = self._stores.get((group, str(obj.get("kind", ""))))
        if store is None:
            raise ValueError(f"the readiness cache does not keep {obj.get('kind')} objects")
        return store.kind

    def _put(self, kind: Kind, summary: ObjectSummary) -> bool:
        store = self._store(kind)
        if store.tombstones.get(summary.name) == summary.uid:
            return False
        held = store.entries.get(summary.name)
        if held is not None and not is_newer(summary.resource_version, held.resource_version):
            return False
        store.entries[summary.name] = summary
        self._wake(kind, {summary.name})
        return True

    def _remove(self, kind: Kind, summary: ObjectSummary) -> bool:
        store = self._store(kind)
        if store.tombstones.get(summary.name) == summary.uid:
            del store.tombstones[summary.name]
        held = store.entries.get(summary.name)
        if held is None or is_newer(held.resource_version, summary.resource_version):
            # Gone already, or the name now belongs to a newer incarnation.
            return False
        del store.entries[summary.name]
        self._report_deleted(store, held)
        self._wake(kind, {summary.name})
        return True

    def _report_deleted(self, store: _KindStore, summary: ObjectSummary) -> None:
        log.debug("%s %s deleted", store.kind.kind, summary.name)
        if self._on_deleted is not None:
            self._on_deleted(store.kind, summary)

    def _wake(self, kind: Kind, names: Iterable[str]) -> None:
        if not self._waiters:
            return
        key = _kind_key(kind)
        for name in names:
            for changed in self._waiters.get((key, name), ()):
                changed.set()
