"""The runner as a process: start-up refusal, serving, JSON logs and SIGTERM."""

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from integration.pipeline_runner.processes import clean_env, free_port, wait_until_serving
from unit.pipeline_runner.helpers import runner_env

PYTHON = sys.executable
UVICORN = str(Path(sys.executable).parent / "uvicorn")


def test_python_m_refuses_to_start_without_a_contract() -> None:
    result = subprocess.run(
        [PYTHON, "-m", "pipeline_runner"],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert "PIPELINE_EVENTS_PIPELINE is not set" in result.stderr


def test_the_uvicorn_factory_refuses_to_start_without_a_contract() -> None:
    result = subprocess.run(
        [UVICORN, "pipeline_runner.app:create_app", "--factory", "--port", str(free_port())],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "PIPELINE_EVENTS_PIPELINE is not set" in result.stderr + result.stdout


def test_the_runner_serves_events_and_stops_cleanly_on_sigterm() -> None:
    port = free_port()
    env = runner_env([{"type": "log", "id": "say", "message": "order ${{ event.data.n }}"}])
    process = subprocess.Popen(
        [PYTHON, "-m", "pipeline_runner"],
        env=clean_env(PORT=str(port), HOST="127.0.0.1", **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(f"{base}/healthz", process)
        response = httpx.post(
            base,
            headers={
                "ce-specversion": "1.0",
                "ce-id": "partition:0/offset:1",
                "ce-source": "/apis/v1/namespaces/t/kafkasources/s#orders",
                "ce-type": "dev.knative.kafka.event",
            },
            content=b'{"n": 41}',
            timeout=30,
        )
        ready = httpx.get(f"{base}/readyz", timeout=5)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert response.status_code == 200
    assert ready.status_code == 200
    # uvicorn re-raises the signal once it has shut down gracefully (status 128 + 15).
    assert process.returncode == -signal.SIGTERM
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    messages = [line["message"] for line in lines]
    assert "order 41" in messages
    assert any(message.startswith("draining") for message in messages)
    assert messages[-1].startswith("Finished server process")
    step_line = next(line for line in lines if line["message"] == "order 41")
    assert step_line["step"] == "say"
    assert step_line["event_id"] == "partition:0/offset:1"
    assert all(line["pipeline_id"] == "pipeline-abc123def456" for line in lines)
    assert all(line["pipeline_version"] == 2 for line in lines)


def test_the_dockerfile_command_serves_the_runner() -> None:
    port = free_port()
    env = runner_env([{"type": "transform", "id": "t", "output": 1}])
    command = [UVICORN, "pipeline_runner.app:create_app", "--factory", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--loop", "uvloop", "--http", "httptools"]
    process = subprocess.Popen(
        command, env=clean_env(**env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/healthz", process)
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert ready.status_code == 200
    assert all(json.loads(line) for line in stderr.splitlines() if line.strip())
