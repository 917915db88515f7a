"""Kafka's generated configuration and the cache rules, without starting a broker."""

import base64
from pathlib import Path

import pytest

from events_api.devstack.cache import cache_root
from events_api.devstack.errors import ToolMissing
from events_api.devstack.kafka import ensure_kafka_jars, new_cluster_id, server_properties


def test_the_server_listens_on_loopback_only() -> None:
    properties = dict(
        line.split("=", 1)
        for line in server_properties(port=9092, controller_port=9093, log_dir=Path("/d"))
        .strip()
        .splitlines()
    )
    assert properties["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert properties["controller.quorum.bootstrap.servers"] == "127.0.0.1:9093"
    assert properties["process.roles"] == "broker,controller"
    assert properties["offsets.topic.replication.factor"] == "1"
    assert "zookeeper.connect" not in properties


def test_cluster_ids_are_sixteen_bytes_in_urlsafe_base64() -> None:
    ids = {new_cluster_id() for _ in range(200)}
    assert len(ids) == 200
    for cluster_id in ids:
        assert len(cluster_id) == 22
        assert not cluster_id.startswith("-")
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16


def test_the_cache_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPELINE_EVENTS_CACHE", str(tmp_path / "mine"))
    assert cache_root() == tmp_path / "mine"
    monkeypatch.delenv("PIPELINE_EVENTS_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "pipeline-events"


def test_a_completed_cache_entry_is_reused_without_maven(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(ToolMissing, match="needs Maven"):
        ensure_kafka_jars(cache=tmp_path)
    complete = next(tmp_path.glob("kafka/*")) / "libs" / ".complete"
    complete.parent.mkdir(parents=True)
    complete.write_text("done")
    assert ensure_kafka_jars(cache=tmp_path) == complete.parent
