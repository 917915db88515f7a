"""`pipeline-events send` produces records a consumer reads back, against the real broker."""

import asyncio
import uuid
from pathlib import Path

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


def test_send_defaults_to_the_kafka_of_a_running_dev(
    kafka_server: KafkaServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PIPELINE_EVENTS_CACHE", str(tmp_path))
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    topic = f"send-{uuid.uuid4().hex[:8]}"
    assert main(["send", topic, "x"]) == 2
    assert "pipeline-events dev" in capsys.readouterr().err

    # What `pipeline-events dev` writes while it runs.
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "kafka-bootstrap-servers").write_text(kafka_server.bootstrap_servers)

    assert main(["send", topic, "x"]) == 0
    records = asyncio.run(_read(kafka_server.bootstrap_servers, topic, 1))
    assert [value for _, value, _ in records] == [b"x"]


def test_values_may_follow_the_options(kafka_server: KafkaServer) -> None:
    topic = f"send-{uuid.uuid4().hex[:8]}"
    bootstrap = ["--bootstrap-servers", kafka_server.bootstrap_servers]

    assert main(["send", topic, "--key", "k", *bootstrap, "v1", "v2"]) == 0

    records = asyncio.run(_read(kafka_server.bootstrap_servers, topic, 2))
    assert [(key, value) for key, value, _ in records] == [(b"k", b"v1"), (b"k", b"v2")]


def test_an_unknown_option_is_still_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["send", "t", "v1", "--nope"])
    assert exited.value.code == 2
    assert "--nope" in capsys.readouterr().err
