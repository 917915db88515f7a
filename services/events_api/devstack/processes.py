"""Child processes we start, own and stop by PID: servers and the one-off tools that set them up.

Every server runs in its own session (process group) with its output in a log file, so a failed
start can quote the log, and stopping reaches the whole group. Servers still running when the
interpreter exits are stopped by an `atexit` hook, so an interrupted test run leaves nothing behind.
"""

import atexit
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from events_api.devstack.errors import ProvisioningFailed, StartTimeout, ToolMissing

_LOG_TAIL_LINES = 40
_running: set["ManagedProcess"] = set()


def log_tail(path: Path, *, lines: int = _LOG_TAIL_LINES) -> str:
    """The last `lines` lines of a log file, or a note that it is empty or missing."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"(no log at {path})"
    tail = text.splitlines()[-lines:]
    return "\n".join(tail) if tail else f"(empty log at {path})"


def run_tool(
    argv: Sequence[str],
    *,
    what: str,
    log_path: Path,
    timeout: float,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    user: str | None = None,
) -> None:
    """Run a one-off command to completion, its output appended to `log_path`.

    Raises:
        ToolMissing: the program does not exist.
        ProvisioningFailed: it exited non-zero or ran longer than `timeout` seconds.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        try:
            completed = subprocess.run(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=None if env is None else dict(env),
                user=user,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError as error:
            raise ToolMissing(f"{what}: `{argv[0]}` is not installed or not on PATH") from error
        except subprocess.TimeoutExpired as error:
            raise ProvisioningFailed(
                f"{what} took longer than {timeout:.0f} s; log {log_path}:\n{log_tail(log_path)}"
            ) from error
    if completed.returncode != 0:
        raise ProvisioningFailed(
            f"{what} failed (exit {completed.returncode}); log {log_path}:\n{log_tail(log_path)}"
        )


class ManagedProcess:
    """A long-running server process: started once, stopped by PID (its whole process group)."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        user: str | None = None,
        stop_signal: signal.Signals = signal.SIGTERM,
        stop_timeout: float = 30.0,
    ) -> None:
        self.name = name
        self.log_path = log_path
        self._argv = list(argv)
        self._cwd = cwd
        self._env = None if env is None else dict(env)
        self._user = user
        self._stop_signal = stop_signal
        self._stop_timeout = stop_timeout
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The process id (the process group id too)."""
        if self._process is None:
            raise RuntimeError(f"{self.name} was never started")
        return self._process.pid

    def start(self) -> None:
        """Start the process in a new session, output to the log file."""
        if self._process is not None:
            raise RuntimeError(f"{self.name} is already started")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            try:
                self._process = subprocess.Popen(
                    self._argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self._cwd,
                    env=self._env,
                    user=self._user,
                    start_new_session=True,
                )
            except FileNotFoundError as error:
                raise ToolMissing(f"{self.name}: `{self._argv[0]}` is not installed") from error
        _running.add(self)

    def exit_code(self) -> int | None:
        """The exit code, or None while it runs."""
        return None if self._process is None else self._process.poll()

    def wait_until_ready(
        self, is_ready: Callable[[], bool], *, timeout: float, interval: float = 0.2
    ) -> None:
        """Poll `is_ready` until it holds; fail early, quoting the log, if the process dies.

        Raises:
            ProvisioningFailed: the process exited before it was ready.
            StartTimeout: not ready within `timeout` seconds (the process is stopped).
        """
        deadline = time.monotonic() + timeout
        while True:
            code = self.exit_code()
            if code is not None:
                _running.discard(self)
                raise ProvisioningFailed(
                    f"{self.name} exited with code {code} while starting; "
                    f"log {self.log_path}:\n{log_tail(self.log_path)}"
                )
            if is_ready():
                return
            if time.monotonic() >= deadline:
                self.stop()
                raise StartTimeout(
                    f"{self.name} was not ready after {timeout:.0f} s; "
                    f"log {self.log_path}:\n{log_tail(self.log_path)}"
                )
            time.sleep(interval)

    def stop(self) -> None:
        """Signal the process group, wait for it, and kill it if it outlives its stop timeout.

        Safe to call twice, and on a process that already exited.
        """
        process = self._process
        _running.discard(self)
        if process is None or process.poll() is not None:
            return
        self._signal_group(self._stop_signal)
        try:
            process.wait(timeout=self._stop_timeout)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            process.wait(timeout=10)

    def kill(self) -> None:
        """End the process group at once with SIGKILL (a crash, for tests); safe to repeat."""
        process = self._process
        _running.discard(self)
        if process is None or process.poll() is not None:
            return
        self._signal_group(signal.SIGKILL)
        process.wait(timeout=10)

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, sig)


def _stop_all_at_exit() -> None:
    for process in list(_running):
        try:
            process.stop()
        except Exception as error:  # noqa: BLE001 - best effort at interpreter exit; report it
            print(f"could not stop {process.name} (pid {process.pid}): {error}", file=sys.stderr)


atexit.register(_stop_all_at_exit)
