"""The command line parses its sub-commands and reports bad usage with exit code 2."""

import pytest

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
