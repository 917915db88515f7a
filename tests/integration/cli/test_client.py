"""`pipeline-events pipelines …` and `events …` against the real API, served on 127.0.0.1.

Each test runs the real command line (`main([...])`, one test the installed console script) and
checks its exit code and what it printed; the API is the real application with a trigger backend
whose readiness the test scripts (see conftest.py).
"""

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from events_api.cli import main
from events_api.client.exit_codes import ExitCode
from events_api.devstack.ports import free_port
from integration.cli.conftest import ServedApi

PIPELINE_YAML = """\
name: orders
description: totals of orders
options:
  event: orders
steps:
  - type: transform
    id: shape
    output:
      total: "${{ event.data.total }}"
  - type: log
    id: say
    message: "total ${{ steps.shape.total }}"
"""

Captured = pytest.CaptureFixture[str]


def run(served: ServedApi, *args: str, caller: str = "alice") -> int:
    """`pipeline-events ARGS --api-url … --token …` in this process."""
    # `--token=…`: a token may start with "-", which argparse would take for an option.
    return main([*args, "--api-url", served.url, f"--token={served.tokens[caller]}"])


def create(served: ServedApi, tmp_path: Path, capsys: Captured, text: str = PIPELINE_YAML) -> str:
    """Create a pipeline from `text` (YAML) with the CLI; its id."""
    path = tmp_path / "pipeline.yaml"
    path.write_text(text)
    assert run(served, "pipelines", "create", "-f", str(path), "--json") == ExitCode.OK
    created: dict[str, Any] = json.loads(capsys.readouterr().out)
    pipeline_id: str = created["id"]
    return pipeline_id


def update(served: ServedApi, pipeline_id: str, body: dict[str, Any]) -> None:
    """Store a new version (the CLI has no update command; PUT directly)."""
    response = httpx.put(
        f"{served.url}/api/v1/pipelines/{pipeline_id}",
        json=body,
        headers={"Authorization": f"Bearer {served.tokens['alice']}"},
    )
    assert response.status_code == 200, response.text


@pytest.fixture(autouse=True)
def _isolated(client_env: Path) -> None:
    """Every test here runs without the developer's URL, token or config."""


def test_create_from_yaml_then_list_get_and_versions(
    served_api: ServedApi, tmp_path: Path, capsys: Captured
) -> None:
    path = tmp_path / "orders.yaml"
    path.write_text(PIPELINE_YAML)
    assert run(served_api, "pipelines", "create", "-f", str(path)) == ExitCode.OK
    line = capsys.readouterr().out
    assert line.startswith("created pipeline-")
    pipeline_id = line.split()[1]
    update(
        served_api,
        pipeline_id,
        {
            "name": "orders",
            "options": {"event": "orders-v2"},
            "steps": [{"type": "log", "id": "a", "message": "x"}],
        },
    )

    assert run(served_api, "pipelines", "list") == ExitCode.OK
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].split()[:4] == ["ID", "NAME", "VERSION", "EVENT"]
    assert listed[1].split()[:4] == [pipeline_id, "orders", "2", "orders-v2"]

    assert run(served_api, "pipelines", "list", "--json") == ExitCode.OK
    items = json.loads(capsys.readouterr().out)["items"]
    assert [item["id"] for item in items] == [pipeline_id]

    assert run(served_api, "pipelines", "get", pipeline_id) == ExitCode.OK
    shown = capsys.readouterr().out
    assert "version:     2 (latest)" in shown
    assert "event:       orders-v2" in shown

    assert run(served_api, "pipelines", "get", pipeline_id, "--version", "1", "--json") == 0
    first = json.loads(capsys.readouterr().out)
    assert (first["version"], first["latest_version"], first["description"]) == (
        1,
        2,
        "totals of orders",
    )
    assert [step["id"] for step in first["steps"]] == ["shape", "say"]

    assert run(served_api, "pipelines", "versions", pipeline_id) == ExitCode.OK
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [(row.split()[0], row.split()[2]) for row in rows] == [
        ("1", "orders"),
        ("2", "orders-v2"),
    ]


def test_create_reads_json_from_stdin(
    served_api: ServedApi, monkeypatch: pytest.MonkeyPatch, capsys: Captured
) -> None:
    body = {
        "name": "piped",
        "options": {"event": "t"},
        "steps": [{"type": "log", "id": "a", "message": "x"}],
    }
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(body)))
    assert run(served_api, "pipelines", "create", "-f", "-", "--json") == ExitCode.OK
    assert json.loads(capsys.readouterr().out)["name"] == "piped"


def test_an_invalid_pipeline_exits_2_with_every_problem(
    served_api: ServedApi, tmp_path: Path, capsys: Captured
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"name": "", "steps": [{"type": "nope", "id": "a"}]}))
    assert run(served_api, "pipelines", "create", "-f", str(path)) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "[validation_failed, HTTP 422]" in err
    assert "  $.name: " in err
    assert "  $.steps[0].type: unknown type 'nope'" in err


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("missing.yaml", None, "no pipeline file"),
        ("broken.json", "{not json", "is not valid JSON"),
        ("broken.yaml", "name: [unclosed", "neither JSON nor valid YAML"),
        ("list.yaml", "- a\n- b\n", "holds a list, not a pipeline"),
    ],
)
def test_an_unusable_pipeline_file_exits_2_before_any_request(
    tmp_path: Path, capsys: Captured, name: str, content: str | None, expected: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    # A closed port: reaching the network would end in exit code 5, not 2.
    closed = f"http://127.0.0.1:{free_port()}"
    assert main(["pipelines", "create", "-f", str(path), "--api-url", closed]) == ExitCode.USAGE
    assert expected in capsys.readouterr().err


def test_an_unknown_pipeline_exits_3(served_api: ServedApi, capsys: Captured) -> None:
    assert run(served_api, "pipelines", "get", "pipeline-doesnotexist") == ExitCode.NOT_FOUND
    assert "[pipeline_not_found, HTTP 404]" in capsys.readouterr().err
    assert run(served_api, "events", "status", "pipeline-doesnotexist", "--json") == 3
    captured = capsys.readouterr()
    assert json.loads(captured.out)["error"] == "pipeline_not_found"


def test_a_bad_token_exits_4_and_says_where_the_token_came_from(
    served_api: ServedApi, monkeypatch: pytest.MonkeyPatch, capsys: Captured
) -> None:
    monkeypatch.setenv("PIPELINE_EVENTS_TOKEN", "not-a-real-token")
    assert main(["pipelines", "list", "--api-url", served_api.url]) == ExitCode.AUTH
    err = capsys.readouterr().err
    assert "HTTP 401" in err
    assert "$PIPELINE_EVENTS_TOKEN" in err
    assert "not-a-real-token" not in err


def test_no_token_at_all_exits_4_and_says_how_to_give_one(
    served_api: ServedApi, capsys: Captured
) -> None:
    assert main(["pipelines", "list", "--api-url", served_api.url]) == ExitCode.AUTH
    assert "no token was given" in capsys.readouterr().err


def test_a_token_without_the_scope_exits_4(
    served_api: ServedApi, tmp_path: Path, capsys: Captured
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(PIPELINE_YAML)
    code = run(served_api, "pipelines", "create", "-f", str(path), caller="reader")
    assert code == ExitCode.AUTH
    assert "[forbidden, HTTP 403]" in capsys.readouterr().err


def test_a_url_with_a_wrong_prefix_is_not_a_missing_pipeline(
    served_api: ServedApi, capsys: Captured
) -> None:
    served = ServedApi(served_api.url + "/wrong", served_api.tokens, served_api.backend)
    assert run(served, "pipelines", "get", "pipeline-abc") == ExitCode.UNAVAILABLE
    assert f"the API at {served.url} has no endpoint" in capsys.readouterr().err


def test_an_unreachable_api_exits_5_naming_the_url(capsys: Captured) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    assert main(["events", "status", "pipeline-x", "--api-url", closed]) == ExitCode.UNAVAILABLE
    err = capsys.readouterr().err
    assert f"cannot connect to the API at {closed} (from --api-url)" in err
    assert "pipeline-events dev" in err


def test_the_console_script_exits_5_without_a_traceback(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "pipeline-events"
    closed = f"http://127.0.0.1:{free_port()}"
    environment = {**os.environ, "PIPELINE_EVENTS_API_URL": closed, "HOME": str(tmp_path)}
    environment.pop("PIPELINE_EVENTS_TOKEN", None)
    done = subprocess.run(
        [str(script), "pipelines", "list"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == ExitCode.UNAVAILABLE
    assert "Traceback" not in done.stderr
    assert "from $PIPELINE_EVENTS_API_URL" in done.stderr


def test_start_wait_polls_until_ready(
    served_api: ServedApi, tmp_path: Path, capsys: Captured
) -> None:
    pipeline_id = create(served_api, tmp_path, capsys)
    served_api.backend.ready_after_polls = 2
    assert run(served_api, "events", "start", pipeline_id, "--wait") == ExitCode.OK
    captured = capsys.readouterr()
    assert captured.out.startswith(f"{pipeline_id}: ready\n")
    # The start's answer and its warning, then sparse progress (stderr is not a terminal).
    assert "Event started successfully (version 1)" in captured.err
    assert "warning: no dead-letter sink" in captured.err
    assert f"waiting up to 300 s for {pipeline_id} to become ready" in captured.err
    assert "RevisionMissing: the runner image cannot be pulled" in captured.err
    assert "\r" not in captured.err
    assert served_api.backend.polls[next(iter(served_api.backend.polls))] == 2


def test_start_wait_gives_up_with_the_reason_and_exits_6(
    served_api: ServedApi, tmp_path: Path, capsys: Captured
) -> None:
    pipeline_id = create(served_api, tmp_path, capsys)
    served_api.backend.ready_after_polls = None
    served_api.backend.reason, served_api.backend.message = "ImagePullBackOff", "no such image"
    code = run(served_api, "events", "start", pipeline_id, "--wait", "--timeout", "1", "--json")
    assert code == ExitCode.NOT_READY
    captured = capsys.readouterr()
    both = json.loads(captured.out)
    assert both["start"]["message"] == "Event started successfully"
    assert (both["status"]["ready"], both["status"]["reason"]) == (False, "ImagePullBackOff")
    assert (
        f"{pipeline_id} did not become ready within 1 s: ImagePullBackOff: no such image"
        in captured.err
    )


def test_start_prints_every_warning_status_and_stop(
    served_api: ServedApi, tmp_path: Path, capsys: Captured
) -> None:
    pipeline_id = create(served_api, tmp_path, capsys)
    served_api.backend.dead_letter = "http://dead-letters.example"
    assert run(served_api, "events", "start", pipeline_id, "--reset", "--version", "1") == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "Event started successfully (version 1)",
        "  dead letter: http://dead-letters.example",
    ]
    assert captured.err.startswith("warning: reset: the source was recreated")

    assert run(served_api, "events", "status", pipeline_id) == ExitCode.OK
    assert capsys.readouterr().out.startswith(f"{pipeline_id}: ready\n  version: 1\n")

    assert run(served_api, "events", "stop", pipeline_id) == ExitCode.OK
    assert capsys.readouterr().out == "Event deleted successfully\n"
    assert run(served_api, "events", "status", pipeline_id) == ExitCode.NOT_FOUND
    assert "[trigger_not_found, HTTP 404]" in capsys.readouterr().err


def test_starting_a_pipeline_without_an_event_option_exits_1(
    served_api: ServedApi, tmp_path: Path, capsys: Captured
) -> None:
    text = PIPELINE_YAML.replace("options:\n  event: orders\n", "")
    pipeline_id = create(served_api, tmp_path, capsys, text)
    assert run(served_api, "events", "start", pipeline_id) == ExitCode.FAILED
    assert "[pipeline_has_no_event_option, HTTP 500]" in capsys.readouterr().err


def test_an_unknown_version_exits_3_and_a_malformed_one_2(
    served_api: ServedApi, tmp_path: Path, capsys: Captured
) -> None:
    pipeline_id = create(served_api, tmp_path, capsys)
    assert run(served_api, "events", "start", pipeline_id, "--version", "7") == 3
    assert run(served_api, "pipelines", "get", pipeline_id, "--version", "seven") == 2
    assert "[invalid_version, HTTP 400]" in capsys.readouterr().err


def test_the_url_and_token_come_from_the_environment_and_the_config_file(
    served_api: ServedApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Captured,
) -> None:
    config = tmp_path / "config" / "pipeline-events" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'token = "{served_api.tokens["alice"]}"\napi_url = "http://127.0.0.1:1"\n')
    monkeypatch.setenv("PIPELINE_EVENTS_API_URL", served_api.url)
    assert main(["pipelines", "list"]) == ExitCode.OK
    assert capsys.readouterr().out == "no pipelines\n"
    # A flag beats the variable, which beat the file above.
    assert main(["pipelines", "list", "--token", "wrong"]) == ExitCode.AUTH
    assert "the token came from --token" in capsys.readouterr().err


def test_the_dev_token_is_the_last_resort_on_a_loopback_url(
    served_api: ServedApi, client_env: Path, capsys: Captured
) -> None:
    dev_token = client_env / "dev" / "dev-token"
    dev_token.parent.mkdir(parents=True)
    dev_token.write_text(served_api.tokens["bob"] + "\n")
    assert main(["pipelines", "list", "--api-url", served_api.url]) == ExitCode.OK
    assert capsys.readouterr().out == "no pipelines\n"


def test_a_named_config_file_that_does_not_exist_exits_2(tmp_path: Path, capsys: Captured) -> None:
    missing = str(tmp_path / "nope.toml")
    assert main(["pipelines", "list", "--config", missing]) == ExitCode.USAGE
    assert f"no config file at {missing} (named by --config)" in capsys.readouterr().err


def test_timeout_without_wait_is_bad_usage(capsys: Captured) -> None:
    assert main(["events", "start", "pipeline-x", "--timeout", "5"]) == ExitCode.USAGE
    assert "--timeout applies to --wait" in capsys.readouterr().err
