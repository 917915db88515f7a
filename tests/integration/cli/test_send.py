"""`pipeline-events send` produces records a consumer reads back, against the real broker."""

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer

from events_api.cli import main
from events_api.devstack import KafkaServer
from events_api.devstack.ports import free_port

pytestmark = pytest.mark.kafka


Received = tuple[bytes, bytes, tuple[tuple[str, bytes], ...]]


async def _read(bootstrap: str, topic: str, count: int) -> list[Received]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    records: list[Received] = []
    try:
        async with asyncio.timeout(60):
            while len(records) < count:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    records += [(r.key, r.value, r.headers) for r in batch]
    finally:
        await consumer.stop()
    return records


def test_send_produces_one_record_per_value(
    kafka_server: KafkaServer, capsys: pytest.CaptureFixture[str]
) -> None:
    topic = f"send-{uuid.uuid4().hex[:8]}"
    code = main(
        [
            "send",
            topic,
            '{"n": 1}',
            '{"n": 2}',
            "--key",
            "k1",
            "--header",
            "content-type=application/json",
            "--bootstrap-servers",
            kafka_server.bootstrap_servers,
        ]
    )
    assert code == 0
    assert "sent 2 record(s)" in capsys.readouterr().err
    records = asyncio.run(_read(kafka_server.bootstrap_servers, topic, 2))
    pairs = [(key, value) for key, value, _ in records]
    assert pairs == [(b"k1", b'{"n": 1}'), (b"k1", b'{"n": 2}')]
    assert records[0][2] == (("content-type", b"application/json"),)


def test_send_says_what_to_check_when_kafka_is_unreachable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    dead = f"127.0.0.1:{free_port()}"
    code = main(["send", "t", "x", "--bootstrap-servers", dead, "--timeout", "2"])
    assert code == 1
    assert dead in capsys.readouterr().err


def test_send_rejects_a_malformed_header(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["send", "t", "x", "--bootstrap-servers", "127.0.0.1:1", "--header", "oops"])
    assert code == 2
    assert "NAME=VALUE" in capsys.readouterr().err
