"""Open the Knative backend for an application's lifetime: a Kubernetes client, the watch-based
readiness cache kept current by its watcher, and the backend that uses both.

Credentials come from a kubeconfig file when one is set, else from the pod's ServiceAccount (the
in-cluster loader reads files, so it runs in a thread, off the event loop).
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from kubernetes_asyncio import client, config

from events_api.triggers.knative.backend import KnativeTriggerBackend
from events_api.triggers.knative.client import KnativeClient
from events_api.triggers.knative.settings import KnativeSettings
from events_api.triggers.knative.watching import ReadinessWatcher


async def connect(kubeconfig: str | None) -> client.ApiClient:
    """An API client from `kubeconfig`, or from the in-cluster ServiceAccount."""
    if kubeconfig:
        return await config.new_client_from_config(config_file=kubeconfig, persist_config=False)
    configuration = client.Configuration()
    loader = config.incluster_config.InClusterConfigLoader(
        token_filename=config.incluster_config.SERVICE_TOKEN_FILENAME,
        cert_filename=config.incluster_config.SERVICE_CERT_FILENAME,
    )
    await asyncio.to_thread(loader.load_and_set, configuration)
    return client.ApiClient(configuration)


@asynccontextmanager
async def open_knative_backend(
    settings: KnativeSettings,
    *,
    kubeconfig: str | None = None,
    api: client.ApiClient | None = None,
) -> AsyncIterator[KnativeTriggerBackend]:
    """The backend, its watcher running; everything stopped and closed on exit.

    Args:
        settings: the operator's Knative settings.
        kubeconfig: credentials file; None for in-cluster (ignored when `api` is given).
        api: an API client to use instead (the caller closes it).
    """
    async with AsyncExitStack() as stack:
        if api is None:
            api = await connect(kubeconfig)
            stack.push_async_callback(api.close)
        watcher = await stack.enter_async_context(ReadinessWatcher(api, settings=settings))
        knative = KnativeClient(
            api, namespace=settings.namespace, timeout=settings.request_timeout_seconds
        )
        yield KnativeTriggerBackend(knative, watcher.cache, settings=settings)
