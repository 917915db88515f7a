"""The real servers integration tests talk to, started once per test session.

A server that cannot be provisioned fails every test that needs it, loudly, with the reason: these
tests never skip.
"""

from collections.abc import Iterator

import pytest

from events_api.devstack import KafkaServer, PostgresServer, start_kafka, start_postgres


@pytest.fixture(scope="session")
def kafka_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaServer]:
    """A single-node Apache Kafka broker (KRaft) on 127.0.0.1."""
    with start_kafka(workdir=tmp_path_factory.mktemp("kafka")) as server:
        yield server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A fresh PostgreSQL cluster on 127.0.0.1."""
    with start_postgres() as server:
        yield server
