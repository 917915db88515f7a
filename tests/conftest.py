"""Suite-wide rules and shared servers: an asyncio test fails when it leaves a task running;
the real control plane (etcd + kube-apiserver with Knative's CRDs) is started once per session
for every folder that needs it (integration, deploy), and so is the real Kafka broker
(integration, e2e)."""

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from events_api.devstack import KafkaServer, start_kafka
from events_api.devstack.knative import knative_crds
from events_api.devstack.kubernetes import KubernetesControlPlane, start_kubernetes


@pytest.fixture
async def _fail_on_leaked_tasks() -> AsyncIterator[None]:
    before = asyncio.all_tasks()
    yield
    current = asyncio.current_task()
    leaked = [
        task for task in asyncio.all_tasks() - before if task is not current and not task.done()
    ]
    for task in leaked:
        task.cancel()
    assert not leaked, f"the test left tasks running: {[task.get_name() for task in leaked]}"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give every asyncio test the leak check (hypothesis tests stay fixture-free)."""
    for item in items:
        if item.get_closest_marker("asyncio") is not None and isinstance(item, pytest.Function):
            # First in, last out: the check runs after every other fixture has torn down.
            item.fixturenames.insert(0, "_fail_on_leaked_tasks")


@pytest.fixture(scope="session")
def kubernetes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubernetesControlPlane]:
    """etcd and kube-apiserver with Knative's CRDs installed (watch cache on, as in clusters)."""
    with start_kubernetes(workdir=tmp_path_factory.mktemp("kubernetes")) as plane:
        plane.apiserver.install_crds(knative_crds())
        yield plane


@pytest.fixture(scope="session")
def kafka_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaServer]:
    """A single-node Apache Kafka broker (KRaft) on 127.0.0.1."""
    with start_kafka(workdir=tmp_path_factory.mktemp("kafka")) as server:
        yield server
