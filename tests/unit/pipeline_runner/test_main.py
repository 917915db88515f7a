"""``python -m pipeline_runner`` up to the point where uvicorn takes over."""

import gc
from typing import Any, ClassVar

import pytest
import uvicorn

from pipeline_runner import __main__ as entry
from pipeline_runner.app import create_app
from unit.pipeline_runner.helpers import EnvFactory


class RecordingServer:
    """Stands in for uvicorn.Server: records what ``run`` would start with."""

    seen: ClassVar[dict[str, Any]] = {}

    starts = True

    def __init__(self, config: Any) -> None:
        self.config = config
        self.started = False

    def run(self) -> None:
        self.started = self.starts
        RecordingServer.seen = {
            "loaded": self.config.loaded,
            "frozen": gc.get_freeze_count(),
            "proxy_headers": self.config.proxy_headers,
            "server_header": self.config.server_header,
            "access_log": self.config.access_log,
        }


def run_main(
    make_env: EnvFactory, monkeypatch: pytest.MonkeyPatch, server: type[RecordingServer]
) -> int:
    """``main()`` with a valid contract and ``server`` standing in for uvicorn's."""
    env = make_env([{"type": "transform", "id": "t", "output": 1}])
    monkeypatch.setenv("PORT", "18080")
    monkeypatch.setattr(uvicorn, "Server", server)
    try:
        return entry.main(lambda: create_app(env, handle_signals=False, configure_logs=False))
    finally:
        gc.unfreeze()


def test_start_up_objects_are_frozen_before_serving(
    make_env: EnvFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_main(make_env, monkeypatch, RecordingServer) == 0

    seen = RecordingServer.seen
    assert seen["loaded"]
    assert seen["frozen"] > 1000  # modules, classes, functions: what start-up made
    assert (seen["proxy_headers"], seen["server_header"], seen["access_log"]) == (False,) * 3


def test_a_server_that_never_started_exits_3(
    make_env: EnvFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    class NeverStarts(RecordingServer):
        starts = False

    assert run_main(make_env, monkeypatch, NeverStarts) == 3
