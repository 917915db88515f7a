"""The thin async seam between the Knative backend and the Kubernetes API.

Plain dicts in and out over the custom-objects API; every call bounded by a timeout; every
`ApiException` and transport error translated here, once, into `events_api.triggers.errors`
(chained with `from`), so no raw Kubernetes error reaches a caller.
"""

import json
from typing import Any

import aiohttp
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from events_api.triggers.errors import (
    BackendUnavailable,
    MissingApi,
    PermissionDenied,
    TriggerConflict,
    TriggerError,
    TriggerRejected,
)
from events_api.triggers.knative.kinds import Kind

KubeObject = dict[str, Any]


class AlreadyExists(TriggerConflict):
    """A create found an object of that name already there."""


class StaleWrite(TriggerConflict):
    """A replace carried a resourceVersion that is no longer current, or the object it meant to
    replace is gone."""


def _status_message(error: ApiException) -> tuple[str, str]:
    try:
        body = json.loads(error.body or "{}")
    except ValueError:
        body = {}
    return str(body.get("reason", error.reason or "")), str(body.get("message", ""))


def _api_is_missing(error: ApiException) -> bool:
    """A 404 about the API itself: a CRD (or its whole group) that is not installed.

    A missing resource answers a Status "could not find the requested resource"; a missing
    group answers a plain-text "404 page not found" with no Status at all.
    """
    reason, message = _status_message(error)
    return error.status == 404 and (
        "could not find the requested resource" in message or reason != "NotFound"
    )


def _object_is_absent(error: ApiException) -> bool:
    """A 404 about the object itself (not about the API, which is a missing CRD)."""
    return error.status == 404 and not _api_is_missing(error)


def translate(  # noqa: PLR0911 - one branch per status: this is the translation table
    error: Exception, *, verb: str, kind: Kind, namespace: str
) -> TriggerError:
    """The trigger error for a failed Kubernetes call (the one place this mapping lives)."""
    resource = f"{kind.plural}.{kind.group}"
    if not isinstance(error, ApiException):
        return BackendUnavailable(
            f"the Kubernetes API did not answer ({type(error).__name__}); retry"
        )
    reason, message = _status_message(error)
    status = error.status or 0
    if status == 403:
        return PermissionDenied(
            f"the events API's ServiceAccount may not {verb} {resource} in namespace "
            f"{namespace!r}; grant it (see k8s/base/rbac.yaml)"
        )
    if (
        status == 404
        and reason == "NotFound"
        and "could not find the requested resource" in message
    ):
        return MissingApi([f"{resource}/{kind.version}"])
    if status == 409:
        if reason == "AlreadyExists":
            return AlreadyExists(f"{kind.kind} already exists: {message}")
        return StaleWrite(f"{kind.kind} changed while we wrote it: {message}")
    if status == 429 or status >= 500:
        return BackendUnavailable(f"the Kubernetes API is overloaded or failing ({status}); retry")
    return TriggerRejected(f"the cluster refused to {verb} a {kind.kind}: {message or reason}")


class KnativeClient:
    """Get, create, replace and delete one kind's objects in one namespace."""

    def __init__(self, api: client.ApiClient, *, namespace: str, timeout: float) -> None:
        self._objects = client.CustomObjectsApi(api)
        self._namespace = namespace
        self._timeout = timeout

    @property
    def namespace(self) -> str:
        """The namespace every call works in."""
        return self._namespace

    async def get(self, kind: Kind, name: str) -> KubeObject | None:
        """The object, or None when there is none."""
        try:
            found: KubeObject = await self._objects.get_namespaced_custom_object(
                kind.group,
                kind.version,
                self._namespace,
                kind.plural,
                name,
                _request_timeout=self._timeout,
            )
        except ApiException as error:
            if _object_is_absent(error):
                return None
            raise translate(error, verb="get", kind=kind, namespace=self._namespace) from error
        except (TimeoutError, aiohttp.ClientError) as error:
            raise translate(error, verb="get", kind=kind, namespace=self._namespace) from error
        return found

    async def create(self, kind: Kind, body: KubeObject) -> KubeObject:
        """Create the object; `AlreadyExists` when its name is taken."""
        try:
            created: KubeObject = await self._objects.create_namespaced_custom_object(
                kind.group,
                kind.version,
                self._namespace,
                kind.plural,
                body,
                _request_timeout=self._timeout,
            )
        except (TimeoutError, ApiException, aiohttp.ClientError) as error:
            raise translate(error, verb="create", kind=kind, namespace=self._namespace) from error
        return created

    async def replace(self, kind: Kind, body: KubeObject) -> KubeObject:
        """Replace the object (its `metadata.resourceVersion` guards the write: `StaleWrite`)."""
        name = body["metadata"]["name"]
        try:
            replaced: KubeObject = await self._objects.replace_namespaced_custom_object(
                kind.group,
                kind.version,
                self._namespace,
                kind.plural,
                name,
                body,
                _request_timeout=self._timeout,
            )
        except ApiException as error:
            if _object_is_absent(error):
                raise StaleWrite(f"{kind.kind} {name!r} was deleted while we updated it") from error
            raise translate(error, verb="update", kind=kind, namespace=self._namespace) from error
        except (TimeoutError, aiohttp.ClientError) as error:
            raise translate(error, verb="update", kind=kind, namespace=self._namespace) from error
        return replaced

    async def delete(self, kind: Kind, name: str, *, uid: str | None = None) -> KubeObject | None:
        """Delete the object (only the incarnation `uid`, when given); None if it was gone."""
        preconditions = None if uid is None else client.V1Preconditions(uid=uid)
        body = client.V1DeleteOptions(propagation_policy="Background", preconditions=preconditions)
        try:
            deleted: KubeObject = await self._objects.delete_namespaced_custom_object(
                kind.group,
                kind.version,
                self._namespace,
                kind.plural,
                name,
                body=body,
                _request_timeout=self._timeout,
            )
        except ApiException as error:
            if _object_is_absent(error):
                return None
            if error.status == 409 and uid is not None:
                # Another incarnation took the name since we read it: not ours to delete.
                return None
            raise translate(error, verb="delete", kind=kind, namespace=self._namespace) from error
        except (TimeoutError, aiohttp.ClientError) as error:
            raise translate(error, verb="delete", kind=kind, namespace=self._namespace) from error
        return deleted
