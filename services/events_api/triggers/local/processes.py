"""Runner processes: `python -m pipeline_runner` per pipeline version, on a loopback port.

The same entrypoint and runner contract as a Knative revision (`encode_runner_env`), run by this
interpreter (`sys.executable`) with a minimal environment — the API's own variables (its tokens,
its database URL) never reach a runner, as they never reach a pod. Each runner gets a free port on
127.0.0.1 (`PORT`, `HOST`), its own session (so a Ctrl-C in the dev terminal reaches the API
alone, which stops its runners in order: consumer first, then runner), a log file and a PID file
under `<data_dir>/runners/`. Stopping is by PID: SIGTERM (the runner drains), a grace period,
then SIGKILL. At start-up, runners a killed API left behind are found by their PID files and
killed (after checking the PID still is a pipeline runner).
"""

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import httpx

from pipeline_models import PipelineVersion, RunnerSettings, encode_runner_env

logger = logging.getLogger(__name__)

_PASSED_ENV: Final = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV")
"""Variables a runner inherits from the API (what any process needs, nothing of the API's)."""
LOG_TAIL_BYTES: Final = 2000
HEALTH_PROBE_SECONDS: Final = 0.1
"""Pause between two health probes of a starting runner."""
_RUNNER_MARKER: Final = b"pipeline_runner"


class RunnerFailed(Exception):
    """A runner exited or did not answer its health check in time; the message has its log."""


@dataclass(kw_only=True, eq=False)
class RunnerProcess:
    """One running `pipeline_runner` process, serving one pipeline version (identity: itself)."""

    version: int
    port: int
    process: asyncio.subprocess.Process
    log_path: Path
    pid_path: Path
    healthy: bool = False
    """Whether it answered its health check (cleared when it exits)."""
    exited: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        """Where it listens."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """Its process id."""
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        """Its exit status once it exited, else None."""
        return self.process.returncode

    def log_tail(self) -> str:
        """The end of its log (what a failed start or a crash printed)."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(0, os.SEEK_END)
                log.seek(max(0, log.tell() - LOG_TAIL_BYTES))
                return log.read().decode("utf-8", "replace").strip()
        except OSError as error:
            return f"(log {self.log_path} unreadable: {error})"

    def describe_exit(self) -> str:
        """Its exit status and log tail, for a status message."""
        return f"the runner exited with status {self.returncode}; its log ends:\n{self.log_tail()}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def runner_environment(
    version: PipelineVersion, *, settings: RunnerSettings, port: int
) -> dict[str, str]:
    """The runner's whole environment: the contract, where to listen, and the basics.

    Raises:
        ContractError: a contract variable would be too long for Linux.
    """
    basics = {name: os.environ[name] for name in _PASSED_ENV if name in os.environ}
    contract = encode_runner_env(pipeline=version, settings=settings)
    return {**basics, **contract, "PORT": str(port), "HOST": "127.0.0.1"}


async def spawn_runner(
    version: PipelineVersion, *, settings: RunnerSettings, folder: Path, label: str
) -> RunnerProcess:
    """Start a runner for `version` (not yet healthy: see :func:`wait_healthy`).

    Raises:
        ContractError: the contract cannot be written into the environment.
        OSError: the interpreter could not be started.
    """
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    port = free_port()
    env = runner_environment(version, settings=settings, port=port)
    stem = f"{label}-v{version.version}-{port}"
    log_path, pid_path = folder / f"{stem}.log", folder / f"{stem}.pid"
    with log_path.open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "pipeline_runner",
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    pid_path.write_text(f"{process.pid}\n")
    logger.info(
        "started runner pid %d for %s version %d on port %d (log %s)",
        process.pid,
        version.pipeline_id,
        version.version,
        port,
        log_path,
    )
    return RunnerProcess(
        version=version.version, port=port, process=process, log_path=log_path, pid_path=pid_path
    )


async def watch_exit(runner: RunnerProcess) -> None:
    """Wait for the runner to exit, then mark it so (run as an owned task per runner)."""
    await runner.process.wait()
    runner.healthy = False
    runner.exited.set()
    with contextlib.suppress(FileNotFoundError):
        runner.pid_path.unlink()


async def wait_healthy(
    runner: RunnerProcess,
    *,
    client: httpx.AsyncClient,
    timeout: float,  # noqa: ASYNC109 - a deadline of its own, reported in the error
) -> None:
    """Return once the runner answers `GET /healthz` with 200.

    Probing is the one poll here: a process that listens does not announce it otherwise.

    Raises:
        RunnerFailed: it exited first, or `timeout` passed.
    """
    try:
        async with asyncio.timeout(timeout):
            while not runner.exited.is_set():
                if await _answers_health(runner, client=client):
                    runner.healthy = True
                    return
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(HEALTH_PROBE_SECONDS):
                        await runner.exited.wait()
    except TimeoutError:
        raise RunnerFailed(
            f"the runner did not answer {runner.url}/healthz within {timeout:g} s; its log "
            f"ends:\n{runner.log_tail()}"
        ) from None
    raise RunnerFailed(runner.describe_exit())


async def _answers_health(runner: RunnerProcess, *, client: httpx.AsyncClient) -> bool:
    try:
        response = await client.get(f"{runner.url}/healthz", timeout=1.0)
    except httpx.TransportError:
        return False
    return response.status_code == 200


async def stop_runner(runner: RunnerProcess, *, grace: float) -> None:
    """SIGTERM, wait up to `grace` seconds for the drain, then SIGKILL; wait for the exit."""
    if runner.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            runner.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(grace):
                await runner.process.wait()
        except TimeoutError:
            logger.warning("runner pid %d did not stop in %g s: killing it", runner.pid, grace)
            with contextlib.suppress(ProcessLookupError):
                runner.process.kill()
            await runner.process.wait()
    runner.healthy = False
    runner.exited.set()
    with contextlib.suppress(FileNotFoundError):
        runner.pid_path.unlink()
    logger.info("runner pid %d stopped (status %s)", runner.pid, runner.returncode)


def kill_orphans(folder: Path) -> list[int]:
    """Kill the runners a previous API process left (their PID files remain); their PIDs.

    A PID is only killed while its command line still names the pipeline runner (PIDs are
    reused); every PID file found is removed.
    """
    killed: list[int] = []
    if not folder.is_dir():
        return killed
    for pid_path in folder.glob("*.pid"):
        try:
            pid = int(pid_path.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            cmdline = b""
        if _RUNNER_MARKER in cmdline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
        with contextlib.suppress(FileNotFoundError):
            pid_path.unlink()
    return killed
