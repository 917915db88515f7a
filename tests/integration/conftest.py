"""The real servers integration tests talk to, started once per test session (the Kafka broker,
shared with the end-to-end tests, is in tests/conftest.py).

A server that cannot be provisioned fails every test that needs it, loudly, with the reason: these
tests never skip.
"""

from collections.abc import AsyncIterator, Iterator

import pytest
from kubernetes_asyncio import client

from events_api.devstack import PostgresServer, start_postgres
from events_api.devstack.knative import knative_crds
from events_api.devstack.kubernetes import KubernetesControlPlane, start_kubernetes
from support.knative_controllers import KnativeControllers
from support.kubernetes import api_client_for, create_namespace


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A fresh PostgreSQL cluster on 127.0.0.1."""
    with start_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def kubernetes_without_watch_cache(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[KubernetesControlPlane]:
    """A second control plane that serves watches from etcd, so compaction forces a 410."""
    workdir = tmp_path_factory.mktemp("kubernetes-no-watch-cache")
    with start_kubernetes(workdir=workdir, watch_cache=False) as plane:
        plane.apiserver.install_crds(knative_crds())
        yield plane


@pytest.fixture
def namespace(kubernetes: KubernetesControlPlane) -> str:
    """A fresh namespace in the session's control plane."""
    return create_namespace(kubernetes.apiserver)


@pytest.fixture
async def admin_api(kubernetes: KubernetesControlPlane) -> AsyncIterator[client.ApiClient]:
    """A kubernetes_asyncio client as the admin (system:masters)."""
    api = await api_client_for(kubernetes.apiserver, kubernetes.apiserver.admin_token, name="admin")
    async with api:
        yield api


@pytest.fixture
async def knative_controllers(
    admin_api: client.ApiClient, namespace: str
) -> AsyncIterator[KnativeControllers]:
    """Knative's controllers, played in the test's namespace."""
    async with KnativeControllers(admin_api, namespace) as controllers:
        yield controllers
