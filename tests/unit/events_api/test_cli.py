"""The command line parses its sub-commands and reports bad usage with exit code 2."""

import gc
from pathlib import Path
from typing import Any, ClassVar

import pytest
import uvicorn

from events_api.auth.scopes import Scope
from events_api.auth.static_tokens import encode_token_file, new_token_entry
from events_api.cli import build_parser, main


def test_dev_takes_a_port() -> None:
    args = build_parser().parse_args(["dev", "--port", "9001"])
    assert args.command == "dev"
    assert args.port == 9001


def test_infra_knows_its_components() -> None:
    assert build_parser().parse_args(["infra", "postgres"]).component == "postgres"
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["infra", "redis"])
    assert exit_info.value.code == 2


def test_a_bad_setting_exits_1_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PIPELINE_EVENTS_PORT", "not-a-port")
    assert main(["serve"]) == 1
    assert "PIPELINE_EVENTS_" in capsys.readouterr().err


class RecordingServer:
    """Stands in for uvicorn.Server: records what ``run`` would start with."""

    seen: ClassVar[dict[str, Any]] = {}

    def __init__(self, config: Any) -> None:
        self.config = config
        self.started = False

    def run(self) -> None:
        RecordingServer.seen = {"loaded": self.config.loaded, "frozen": gc.get_freeze_count()}
        self.started = True


def test_serve_freezes_start_up_objects_before_serving(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tokens = tmp_path / "tokens.json"
    minted = new_token_entry(name="cli-test", tenant="team-a", scopes=list(Scope))
    tokens.write_bytes(encode_token_file([minted.entry]))
    monkeypatch.setenv("PIPELINE_EVENTS_TRIGGER_BACKEND", "none")
    monkeypatch.setenv("PIPELINE_EVENTS_AUTH_STATIC_TOKENS_FILE", str(tokens))
    monkeypatch.setenv("PIPELINE_EVENTS_SQLITE_PATH", str(tmp_path / "pipelines.sqlite3"))
    monkeypatch.setattr(uvicorn, "Server", RecordingServer)
    try:
        assert main(["serve"]) == 0
    finally:
        gc.unfreeze()

    assert RecordingServer.seen["loaded"]
    assert RecordingServer.seen["frozen"] > 10_000  # the modules and classes start-up made
