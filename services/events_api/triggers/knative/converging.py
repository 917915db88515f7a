"""Bring one live object to its desired state with as few writes as possible, safely.

Create it when absent; wait while an old incarnation is terminating; replace it in place (its
resourceVersion guards the write, a stale write is retried on fresh state) when it is ours;
refuse an object that belongs to someone else. Pure merging lives in `merge_for_replace`.
"""

import asyncio
import random
from collections.abc import Callable
from typing import Any

from events_api.triggers.backoff import Backoff
from events_api.triggers.errors import TriggerConflict
from events_api.triggers.knative.client import AlreadyExists, KnativeClient, KubeObject, StaleWrite
from events_api.triggers.knative.kinds import Kind
from events_api.triggers.knative.labels import (
    MANAGED_BY,
    MANAGED_BY_VALUE,
    PIPELINE_ANNOTATION,
    PREFIX,
)
from events_api.triggers.knative.readiness import deleted_uid

# Enough for a burst of concurrent starts and stops on one pipeline (each write may lose a race).
_ATTEMPTS = 25
_BACKOFF = Backoff(base=0.05, cap=1.0)
_GONE_WAIT_SECONDS = 60.0
# Annotations other writers own that a replace must carry over (Knative's webhook rejects
# changes to serving.knative.dev/creator, for one).
_OURS = (PREFIX + "/", "autoscaling.knative.dev/")

Sleep = Callable[[float], Any]


def _backoff(attempt: int) -> float:
    """The jittered wait after the `attempt`-th lost race (counted from 0)."""
    return _BACKOFF.delay(attempt + 1, random=random.random)


def _theirs(mapping: dict[str, str] | None, ours: dict[str, str]) -> dict[str, str]:
    return {
        key: value
        for key, value in (mapping or {}).items()
        if key not in ours and not key.startswith(_OURS)
    }


def merge_for_replace(current: KubeObject, desired: KubeObject) -> KubeObject:
    """The body that replaces `current` with `desired`, keeping what other writers own.

    Labels and annotations of others survive; ours are set exactly; the spec is ours whole;
    identity (uid, resourceVersion, finalizers) comes from `current`.
    """
    current_meta, desired_meta = current["metadata"], desired["metadata"]
    labels = desired_meta.get("labels") or {}
    annotations = desired_meta.get("annotations") or {}
    metadata = {
        **{k: v for k, v in current_meta.items() if k not in {"managedFields"}},
        "labels": {**_theirs(current_meta.get("labels"), labels), **labels},
        "annotations": {**_theirs(current_meta.get("annotations"), annotations), **annotations},
    }
    if "ownerReferences" in desired_meta:
        metadata["ownerReferences"] = desired_meta["ownerReferences"]
    return {**desired, "metadata": metadata, "spec": desired["spec"]}


def is_ours(obj: KubeObject, desired: KubeObject) -> bool:
    """Whether a live object is managed by us for the same pipeline as `desired`."""
    meta, desired_meta = obj["metadata"], desired["metadata"]
    managed = (meta.get("labels") or {}).get(MANAGED_BY) == MANAGED_BY_VALUE
    pipeline = (meta.get("annotations") or {}).get(PIPELINE_ANNOTATION)
    return managed and pipeline == desired_meta["annotations"][PIPELINE_ANNOTATION]


def controller_uid(obj: KubeObject) -> str | None:
    """The uid of the object's controlling owner, if any."""
    for reference in obj["metadata"].get("ownerReferences") or []:
        if reference.get("controller"):
            return str(reference.get("uid"))
    return None


def _differs(current: KubeObject, body: KubeObject) -> bool:
    keys = ("labels", "annotations", "ownerReferences")
    meta_differs = any(current["metadata"].get(k) != body["metadata"].get(k) for k in keys)
    return meta_differs or current.get("spec") != body.get("spec")


class Converger:
    """Converges objects of any kind through one client, writing through to a cache."""

    def __init__(
        self,
        client: KnativeClient,
        *,
        write_through: Callable[[KubeObject], object],
        forget: Callable[[Kind, str, str | None], None],
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._write_through = write_through
        self._forget = forget
        self._sleep = sleep

    async def converge(
        self, kind: Kind, desired: KubeObject, *, owner_uid: str | None = None
    ) -> KubeObject:
        """Make the live object equal `desired` (created, or replaced in place).

        An object controlled by another owner than `owner_uid` (an orphan of an earlier
        Service) is deleted and created afresh.

        Raises:
            TriggerConflict: the name belongs to something we do not manage, or the object kept
                changing under us.
        """
        name = desired["metadata"]["name"]
        for attempt in range(_ATTEMPTS):
            current = await self._client.get(kind, name)
            if current is None:
                try:
                    return self._written(await self._client.create(kind, desired))
                except AlreadyExists:
                    continue
            if current["metadata"].get("deletionTimestamp"):
                await self.wait_gone(kind, name, uid=current["metadata"]["uid"])
                continue
            if not is_ours(current, desired):
                raise TriggerConflict(
                    f"a {kind.kind} named {name!r} exists in namespace "
                    f"{self._client.namespace!r} and is not this pipeline's; remove or rename it"
                )
            if owner_uid is not None and controller_uid(current) != owner_uid:
                await self.delete(kind, name, uid=current["metadata"]["uid"])
                continue
            body = merge_for_replace(current, desired)
            if not _differs(current, body):
                return current
            try:
                return self._written(await self._client.replace(kind, body))
            except StaleWrite:
                await self._sleep(_backoff(attempt))
        raise TriggerConflict(f"the {kind.kind} {name!r} kept changing while we updated it; retry")

    async def delete(self, kind: Kind, name: str, *, uid: str | None = None) -> bool:
        """Delete the object (that incarnation, when `uid` is given); False if it was gone."""
        answer = await self._client.delete(kind, name, uid=uid)
        if answer is None:
            return False
        if answer.get("kind") == kind.kind and answer["metadata"].get("deletionTimestamp"):
            # Finalizers hold it back: it is still there, marked for deletion.
            self._write_through(answer)
        else:
            self._forget(kind, name, deleted_uid(answer) or uid)
        return True

    async def wait_gone(
        self, kind: Kind, name: str, *, uid: str | None = None, seconds: float = _GONE_WAIT_SECONDS
    ) -> None:
        """Wait (polling with backoff) until the object — incarnation `uid`, when given — is gone.

        A concurrent start may have created the name afresh meanwhile: that is not the object
        we wait for.

        Raises:
            TriggerConflict: it is still there after `seconds` (e.g. a finalizer is stuck).
        """
        try:
            async with asyncio.timeout(seconds):
                attempt = 0
                while (current := await self._client.get(kind, name)) is not None:
                    if uid is not None and current["metadata"]["uid"] != uid:
                        return
                    await self._sleep(_backoff(attempt))
                    attempt += 1
        except TimeoutError as error:
            raise TriggerConflict(
                f"the previous {kind.kind} {name!r} is still being deleted (a finalizer may be "
                "stuck: is the Knative Kafka controller running?); retry later"
            ) from error

    def _written(self, obj: KubeObject) -> KubeObject:
        self._write_through(obj)
        return obj
