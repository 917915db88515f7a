"""SIGTERM with events in flight, on the real process: drained, none cut, none lost.

The runner runs as ``python -m pipeline_runner`` does (its ``main``: uvicorn, uvloop, httptools,
the signal chain), with one seam: the egress check lets the http step reach the test's gate
server on 127.0.0.1 (the policy always refuses loopback). The gate server holds every request
until the test releases it, so the events are provably in flight when SIGTERM arrives.
"""

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from integration.pipeline_runner.processes import clean_env, free_port, wait_until_serving
from unit.pipeline_runner.helpers import runner_env

IN_FLIGHT = 4
LAUNCHER = """
import sys
from pipeline_runner.__main__ import main
from pipeline_runner.app import create_app

grace = float(sys.argv[1]) if len(sys.argv) > 1 else None
sys.exit(main(lambda: create_app(egress_check=lambda host, address: None, drain_seconds=grace)))
"""


class Gate:
    """A real HTTP server whose answers wait for :meth:`release`."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.arrived = threading.Semaphore(0)
        gate = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", "0")))
                gate.arrived.release()
                gate.released.wait(timeout=60)
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]

    def wait_for(self, count: int) -> None:
        for _ in range(count):
            assert self.arrived.acquire(timeout=30), "an event never reached the gate"

    def release(self) -> None:
        self.released.set()


@contextmanager
def gate_server() -> Iterator[Gate]:
    gate = Gate()
    thread = threading.Thread(target=gate.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gate
    finally:
        gate.release()
        gate.server.shutdown()
        gate.server.server_close()
        thread.join(timeout=10)


@contextmanager
def runner(
    gate: Gate, *, grace: float | None = None
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    steps = [
        {
            "type": "http",
            "id": "call",
            "method": "POST",
            "url": f"http://127.0.0.1:{gate.port}/hold",
            "body": {"offset": "${{ event.offset }}"},
            "timeout_seconds": 60,
        }
    ]
    env = runner_env(steps)
    command = [sys.executable, "-c", LAUNCHER, *([] if grace is None else [str(grace)])]
    process = subprocess.Popen(
        command,
        env=clean_env(PORT=str(port), HOST="127.0.0.1", **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/healthz", process)
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def event_headers(offset: int) -> dict[str, str]:
    return {
        "ce-specversion": "1.0",
        "ce-id": f"partition:0/offset:{offset}",
        "ce-source": "/apis/v1/namespaces/t/kafkasources/s#orders",
        "ce-type": "dev.knative.kafka.event",
        "ce-knativekafkaoffset": str(offset),
        "ce-knativekafkapartition": "0",
    }


def post(base: str, offset: int) -> httpx.Response:
    return httpx.post(base, headers=event_headers(offset), content=b"{}", timeout=60)


def send_in_flight(pool: ThreadPoolExecutor, base: str, gate: Gate) -> list[Future[httpx.Response]]:
    futures = [pool.submit(post, base, offset) for offset in range(IN_FLIGHT)]
    gate.wait_for(IN_FLIGHT)
    return futures


def test_sigterm_drains_in_flight_events_and_refuses_new_ones() -> None:
    with gate_server() as gate, runner(gate) as (base, process), ThreadPoolExecutor(8) as pool:
        in_flight = send_in_flight(pool, base, gate)

        process.send_signal(signal.SIGTERM)
        ready = wait_for_status(f"{base}/readyz", 503)
        during_drain = post(base, 100)
        still_running = process.poll() is None
        released_at = time.monotonic()
        gate.release()
        answers = [future.result(timeout=30) for future in in_flight]
        answered_in = time.monotonic() - released_at
        process.wait(timeout=30)

    assert ready.json() == {"ready": False, "reason": "draining"}
    assert (during_drain.status_code, during_drain.json()["error"]) == (503, "shutting_down")
    assert still_running
    assert [answer.status_code for answer in answers] == [200] * IN_FLIGHT
    assert all(answer.json()["outcome"] == "succeeded" for answer in answers)
    assert answered_in < 10
    assert process.returncode == -signal.SIGTERM


def test_events_outlasting_the_grace_period_answer_503_and_are_not_lost() -> None:
    grace = 1.0
    with (
        gate_server() as gate,
        runner(gate, grace=grace) as (base, process),
        ThreadPoolExecutor(8) as pool,
    ):
        in_flight = send_in_flight(pool, base, gate)

        signalled_at = time.monotonic()
        process.send_signal(signal.SIGTERM)
        answers = [future.result(timeout=30) for future in in_flight]
        answered_in = time.monotonic() - signalled_at
        process.wait(timeout=30)

    # Cut at the end of the grace period: a 503 Knative retries, so no event is lost.
    assert [(a.status_code, a.json()["error"]) for a in answers] == [
        (503, "shutting_down")
    ] * IN_FLIGHT
    assert grace <= answered_in < grace + 10
    assert process.returncode == -signal.SIGTERM


def wait_for_status(url: str, status: int) -> httpx.Response:
    for _ in range(100):
        response = httpx.get(url, timeout=5)
        if response.status_code == status:
            return response
        time.sleep(0.05)
    raise AssertionError(f"{url} never answered {status}")
