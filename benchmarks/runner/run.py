"""HTTP throughput of the runner beside its reference apps, in one run, with one load generator.

Each app runs in turn as a real uvicorn process (uvloop, httptools, no per-request logging)
pinned to CPU 0; wrk, pinned to CPU 1, POSTs the KafkaSource-shaped event of
:mod:`kafka_event` (a new offset per request) after a warm-up. The apps take turns, ``--rounds``
times (so a burst of load from elsewhere on the machine hits one round of every app, not every
round of one), and each app's round with the median requests/s is its result. One result line
per app (requests/s, p50, p99, non-2xx, every round's requests/s), then the ratios the runner's
issue sets as targets.

    benchmarks/runner/run.sh [--rounds 3] [--duration 10] [--connections 64] [--only NAME ...]

The apps:

* ``bare-asgi``      a raw ASGI callable that reads the body (the server's ceiling);
* ``starlette-noop`` Starlette, one route reading the body;
* ``sdk-v1``         Starlette + ``cloudevents.http.from_http`` (cloudevents 1.x);
* ``sdk-core``       Starlette + ``cloudevents.core.bindings.http`` (cloudevents 2.x, its own
  venv: ``--sdk-core-python``);
* ``runner``         ``python -m pipeline_runner`` (the production entry point) running a
  one-step ``transform`` pipeline;
* ``runner-diamond`` the same with a 4-step graph with two parallel branches.
"""

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import kafka_event
import pipelines

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
SERVER_CPU = "0"
LOAD_CPU = "1"
UVICORN_FLAGS = ["--loop", "uvloop", "--http", "httptools", "--log-level", "warning"]


@dataclass(frozen=True)
class App:
    """One app to measure: how to start it."""

    name: str
    command: list[str]
    env: dict[str, str]


@dataclass(frozen=True)
class Result:
    """What wrk measured for one app."""

    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: str
    rounds: tuple[float, ...] = ()
    """Requests/s of every round, in order (the result is the median one)."""


def apps(port: int, *, sdk_core_python: str) -> list[App]:
    """Every app of the run, in the order they are measured."""
    bind = ["--host", "127.0.0.1", "--port", str(port)]

    def reference(name: str, module: str, python: str = PYTHON) -> App:
        command = [python, "-m", "uvicorn", f"apps.{module}:app", "--app-dir", str(HERE)]
        return App(name, command + bind + UVICORN_FLAGS, {})

    def runner(name: str, pipeline: str) -> App:
        env = {"PORT": str(port), "HOST": "127.0.0.1", **pipelines.runner_env(pipeline)}
        return App(name, [PYTHON, "-m", "pipeline_runner"], env)

    return [
        reference("bare-asgi", "bare_asgi"),
        reference("starlette-noop", "starlette_noop"),
        reference("sdk-v1", "starlette_sdk_v1"),
        reference("sdk-core", "starlette_sdk_core", python=sdk_core_python),
        runner("runner", "transform"),
        runner("runner-diamond", "diamond"),
    ]


def measure(
    app: App, *, port: int, script: Path, log: Path, duration: int, connections: int
) -> Result:
    """Start ``app`` on CPU 0, warm it up, load it with wrk on CPU 1, stop it by its PID.

    The app's output goes to ``log`` (a pipe nobody reads would fill up and stall the app).
    """
    env = {**_base_env(), **app.env}
    with log.open("w") as output_file:
        process = subprocess.Popen(
            ["taskset", "-c", SERVER_CPU, *app.command],
            env=env,
            stdout=output_file,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for_port(port, process, log)
            _wrk(port, script, duration=max(2, duration // 3), connections=connections)
            output = _wrk(port, script, duration=duration, connections=connections)
        finally:
            _stop(process)
    return _parse(app.name, output)


def _base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "VIRTUAL_ENV")
    return {name: os.environ[name] for name in keep if name in os.environ}


def _wait_for_port(port: int, process: "subprocess.Popen[bytes]", log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the app exited during start-up:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on port {port} after 30 s")


def _wrk(port: int, script: Path, *, duration: int, connections: int) -> str:
    command = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{connections}", f"-d{duration}s"]
    command += ["--latency", "-s", str(script), f"http://127.0.0.1:{port}/"]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return result.stdout


def _stop(process: "subprocess.Popen[bytes]") -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def _parse(name: str, output: str) -> Result:
    def find(pattern: str) -> str:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            raise SystemExit(f"cannot read {pattern!r} in wrk's output:\n{output}")
        return match.group(1)

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)$", output, re.MULTILINE)
    return Result(
        name=name,
        requests_per_second=float(find(r"^Requests/sec:\s+([\d.]+)")),
        p50_ms=_milliseconds(find(r"^\s+50%\s+(\S+)")),
        p99_ms=_milliseconds(find(r"^\s+99%\s+(\S+)")),
        requests=int(find(r"^\s+(\d+) requests in")),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=errors.group(1) if errors else "none",
    )


_NOTHING = Result("", 0.0, 0.0, 0.0, 0, 0, "none")


def report(results: dict[str, Result]) -> None:
    """Print one line per app, then the ratios and whether each target is met."""
    print(f"{'app':<16} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'non-2xx':>8}")
    for result in results.values():
        print(
            f"{result.name:<16} {result.requests_per_second:>9.0f} {result.p50_ms:>8.2f} "
            f"{result.p99_ms:>8.2f} {result.requests:>9} {result.non_2xx:>8}"
            + ("" if result.socket_errors == "none" else f"  socket errors: {result.socket_errors}")
            + f"  rounds: {' '.join(f'{rps:.0f}' for rps in result.rounds)}"
            + ("  INVALID: not every answer was a 2xx" if result.non_2xx else "")
        )
    print()
    ratios = (
        ("starlette-noop", "bare-asgi", None),
        ("sdk-v1", "starlette-noop", None),
        ("sdk-core", "starlette-noop", None),
        ("runner", "starlette-noop", 0.65),
        ("runner", "sdk-v1", 1.6),
        ("runner-diamond", "runner", None),
    )
    for numerator, denominator, target in ratios:
        if numerator in results and results.get(denominator, _NOTHING).requests_per_second:
            ratio = (
                results[numerator].requests_per_second / results[denominator].requests_per_second
            )
            verdict = (
                ""
                if target is None
                else f"  target >= {target}: " + ("met" if ratio >= target else "MISSED")
            )
            print(f"{numerator} / {denominator}: {ratio:.2f}x{verdict}")


def main() -> None:
    """Measure the apps named on the command line (all by default), then report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="turns each app takes")
    parser.add_argument("--duration", type=int, default=10, help="seconds of measured load")
    parser.add_argument("--connections", type=int, default=64, help="wrk's open connections")
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument(
        "--sdk-core-python",
        default="/tmp/pipeline-events-bench-sdk2/bin/python",  # noqa: S108 - run.sh builds it
        help="python of a venv with cloudevents 2.x",
    )
    parser.add_argument("--only", nargs="*", help="measure only these apps")
    arguments = parser.parse_args()
    chosen = [
        app
        for app in apps(arguments.port, sdk_core_python=arguments.sdk_core_python)
        if not arguments.only or app.name in arguments.only
    ]
    runs: dict[str, list[Result]] = {app.name: [] for app in chosen}
    with tempfile.TemporaryDirectory() as workdir:
        script = Path(workdir) / "kafka_event.lua"
        script.write_text(kafka_event.wrk_script())
        for round_number in range(1, arguments.rounds + 1):
            for app in chosen:
                result = measure(
                    app,
                    port=arguments.port,
                    script=script,
                    log=Path(workdir) / f"{app.name}.log",
                    duration=arguments.duration,
                    connections=arguments.connections,
                )
                runs[app.name].append(result)
                print(
                    f"  round {round_number}: {app.name} {result.requests_per_second:.0f} req/s",
                    file=sys.stderr,
                )
    report({name: _median(results) for name, results in runs.items()})


def _median(results: list[Result]) -> Result:
    ranked = sorted(results, key=lambda result: result.requests_per_second)
    middle = ranked[(len(ranked) - 1) // 2]
    rounds = tuple(result.requests_per_second for result in results)
    return Result(**{**middle.__dict__, "rounds": rounds})


if __name__ == "__main__":
    main()
