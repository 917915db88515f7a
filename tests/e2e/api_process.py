"""The events API as a real process (`pipeline-events serve`) with the local trigger backend.

One :class:`ApiProcess` is one API *installation* in a folder: its SQLite file, token file, data
dir (runner logs and PID files) and port stay the same across restarts, so `restart` is exactly
an operator starting the same command again. The runners it starts are its children, in their own
sessions; they are found two ways — by the PID files the backend writes under
`<data dir>/runners/`, and by their working directory (inherited from the API, a folder of this
installation's own), which also finds a runner whose PID file is gone. `close` stops the API by
PID (SIGTERM, SIGKILL after a bound) and then every runner left, however the test ended.
"""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from asyncio.subprocess import Process
from pathlib import Path
from typing import Final

import httpx

from e2e.waiting import POLL_SECONDS, bounded
from events_api.devstack import KafkaServer
from events_api.devstack.ports import free_port
from support.api import write_token_file

STOP_SECONDS: Final = 40.0
"""SIGTERM to SIGKILL for the API: its drain (5 s) plus stopping runners (10 s each, at once)."""
RUNNER_STOP_SECONDS: Final = 10.0
LOG_TAIL_BYTES: Final = 3000
_RUNNER_MARKER: Final = b"pipeline_runner"
_OWN_SETTINGS: Final = ("PIPELINE_EVENTS_", "KAFKA_BOOTSTRAP_SERVERS")
"""Variables of the caller's environment that must not leak into the API under test."""


def alive(pid: int) -> bool:
    """Whether `pid` is a running process (a zombie, exited but not reaped, is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # The state follows the command name, which is in parentheses and may contain spaces.
    return stat.rpartition(")")[2].split()[0] != "Z"


def _is_runner(pid: int) -> bool:
    try:
        return _RUNNER_MARKER in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _tail(path: Path) -> str:
    try:
        with path.open("rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - LOG_TAIL_BYTES))
            return log.read().decode("utf-8", "replace")
    except OSError as error:
        return f"({path} unreadable: {error})"


def _api_executable() -> str:
    """The `pipeline-events` command of the interpreter running the tests (the project's venv)."""
    command = Path(sys.executable).parent / "pipeline-events"
    if not command.exists():
        raise AssertionError(
            f"{command} is missing: install the project into this venv (scripts/bootstrap)"
        )
    return str(command)


class ApiProcess:
    """One API installation in `folder`: start, kill, restart and close it; see its runners."""

    def __init__(self, folder: Path, *, kafka: KafkaServer) -> None:
        self.folder = folder
        self.port = free_port()
        self.data_dir = folder / "local"
        self.cwd = folder / "cwd"
        self.cwd.mkdir(parents=True, exist_ok=True)
        self.tokens = write_token_file(folder / "tokens.json")
        self._kafka = kafka
        self._process: Process | None = None
        self._starts = 0
        self.client = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{self.port}", timeout=60, trust_env=False
        )
        self.seen_runners: set[int] = set()
        """Every runner PID observed (by PID file) since the installation was created."""

    @property
    def pid(self) -> int | None:
        """The API process's PID while one was started."""
        return self._process.pid if self._process is not None else None

    @property
    def log_path(self) -> Path:
        """The log of the current (or last) API process."""
        return self.folder / f"api-{self._starts}.log"

    def auth(self, caller: str = "alice") -> dict[str, str]:
        """The Authorization header of `caller` (support.api's callers)."""
        return {"Authorization": f"Bearer {self.tokens[caller]}"}

    def environment(self) -> dict[str, str]:
        """The API's whole environment: the caller's basics and this installation's settings."""
        basics = {
            name: value for name, value in os.environ.items() if not name.startswith(_OWN_SETTINGS)
        }
        return {
            **basics,
            "PIPELINE_EVENTS_HOST": "127.0.0.1",
            "PIPELINE_EVENTS_PORT": str(self.port),
            "PIPELINE_EVENTS_SHUTDOWN_GRACE_SECONDS": "5",
            "PIPELINE_EVENTS_SQLITE_PATH": str(self.folder / "pipelines.sqlite3"),
            "PIPELINE_EVENTS_AUTH_MODE": "static",
            "PIPELINE_EVENTS_AUTH_STATIC_TOKENS_FILE": str(self.folder / "tokens.json"),
            "PIPELINE_EVENTS_TRIGGER_BACKEND": "local",
            "PIPELINE_EVENTS_LOCAL_KAFKA_BOOTSTRAP_SERVERS": self._kafka.bootstrap_servers,
            "PIPELINE_EVENTS_LOCAL_DATA_DIR": str(self.data_dir),
            "PIPELINE_EVENTS_LOCAL_RUNNER_STOP_TIMEOUT_SECONDS": str(RUNNER_STOP_SECONDS),
            "PIPELINE_EVENTS_LOCAL_DRAIN_SECONDS": "2",
        }

    async def start(self) -> None:
        """Start the API (the same command and environment every time); return once ready."""
        if self._process is not None and self._process.returncode is None:
            raise AssertionError(f"the API (pid {self._process.pid}) is still running")
        self._starts += 1
        with self.log_path.open("wb") as log:
            self._process = await asyncio.create_subprocess_exec(
                _api_executable(),
                "serve",
                env=self.environment(),
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        process = self._process
        async with bounded("the API answers /readyz with 200", describe=self.describe):
            while not await self._ready():
                if process.returncode is not None:
                    raise AssertionError(
                        f"the API exited with status {process.returncode} during start-up\n"
                        f"{self.describe()}"
                    )
                await asyncio.sleep(POLL_SECONDS)

    async def _ready(self) -> bool:
        try:
            response = await self.client.get("/readyz", timeout=2)
        except httpx.TransportError:
            return False
        return response.status_code == 200

    async def kill(self) -> None:
        """SIGKILL the API, as a crash or an OOM kill would; its runners are left running."""
        process = self._require_process()
        process.kill()
        await process.wait()

    async def restart(self) -> None:
        """Start the API again after :meth:`kill` or :meth:`stop`, with the same environment."""
        await self.start()

    async def stop(self) -> bool:
        """SIGTERM the API and wait (bounded), SIGKILL it otherwise; True when it stopped on its
        own."""
        process = self._process
        if process is None or process.returncode is not None:
            return True
        process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(STOP_SECONDS):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()
            return False
        return True

    def _require_process(self) -> Process:
        if self._process is None or self._process.returncode is not None:
            raise AssertionError(f"the API is not running\n{self.describe()}")
        return self._process

    def runner_pids(self) -> set[int]:
        """PIDs of live runners with a PID file (the backend's own record of its runners)."""
        found = set()
        for pid_path in (self.data_dir / "runners").glob("*.pid"):
            try:
                pid = int(pid_path.read_text().strip())
            except (OSError, ValueError):
                continue
            if alive(pid) and _is_runner(pid):
                found.add(pid)
        self.seen_runners |= found
        return found

    def processes_in_cwd(self) -> set[int]:
        """Live processes working in this installation's folder: the API and every runner it
        started (they inherit its working directory), PID file or not."""
        found = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                if Path(os.readlink(entry / "cwd")) == self.cwd and alive(int(entry.name)):
                    found.add(int(entry.name))
        return found

    def leftover_runners(self) -> set[int]:
        """Runner processes of this installation still alive (the API's own PID excluded)."""
        by_cwd = {pid for pid in self.processes_in_cwd() if pid != self.pid and _is_runner(pid)}
        seen = {pid for pid in self.seen_runners if alive(pid) and _is_runner(pid)}
        return self.runner_pids() | by_cwd | seen

    def describe(self) -> str:
        """The API's state and log tail, and every runner log's tail (for failure messages)."""
        process = self._process
        state = "never started" if process is None else f"pid {process.pid}, "
        if process is not None:
            code = process.returncode
            state += "running" if code is None else f"exited with status {code}"
        parts = [f"--- API ({state}); log {self.log_path}:\n{_tail(self.log_path)}"]
        for log in sorted((self.data_dir / "runners").glob("*.log")):
            parts.append(f"--- runner log {log.name}:\n{_tail(log)}")
        return "\n".join(parts)

    async def close(self) -> list[str]:
        """Stop the API and then every runner left behind, by PID; what went wrong, if anything.

        A runner left after the API stopped on its own is a defect (the API stops its runners);
        after a SIGKILL it is expected (the next API start would have killed it).
        """
        problems: list[str] = []
        graceful = await self.stop()
        if not graceful:
            problems.append(f"the API did not stop within {STOP_SECONDS:g} s of SIGTERM")
        await self.client.aclose()
        leftovers = self.leftover_runners()
        if leftovers and graceful:
            problems.append(f"runner processes outlived the API's graceful stop: {leftovers}")
        for pid in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(RUNNER_STOP_SECONDS):
                while any(alive(pid) for pid in leftovers):  # noqa: ASYNC110 - not our children
                    await asyncio.sleep(POLL_SECONDS)
        for pid in leftovers:
            if alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        return problems
