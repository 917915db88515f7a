"""Real infrastructure for development and tests: Apache Kafka (KRaft) and PostgreSQL.

`pipeline-events dev` and the test suite use the same code to provision a broker and a database on
127.0.0.1 and free ports, from caches kept outside the checkout (keyed by version, so a second run
downloads nothing). Everything here is synchronous on purpose: it runs before any event loop starts
(the CLI) or in pytest's session fixtures, never on a serving loop.

Error tree::

    DevstackError
    ├── ToolMissing          a program we need is not installed (the message says how to install it)
    ├── ProvisioningFailed   a download, build or start failed (the message carries the log's tail)
    └── StartTimeout         a server did not become ready in time
"""

from events_api.devstack.errors import DevstackError, ProvisioningFailed, StartTimeout, ToolMissing
from events_api.devstack.kafka import KAFKA_VERSION, KafkaServer, ensure_kafka_jars, start_kafka
from events_api.devstack.postgres import (
    POSTGRES_MAJOR,
    PostgresServer,
    find_postgres_bindir,
    start_postgres,
)

__all__ = [
    "KAFKA_VERSION",
    "POSTGRES_MAJOR",
    "DevstackError",
    "KafkaServer",
    "PostgresServer",
    "ProvisioningFailed",
    "StartTimeout",
    "ToolMissing",
    "ensure_kafka_jars",
    "find_postgres_bindir",
    "start_kafka",
    "start_postgres",
]
