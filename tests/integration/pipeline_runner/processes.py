"""Helpers for tests that run the runner as a process: ports, environments, start-up waits."""

import os
import socket
import subprocess
import time

import httpx


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def clean_env(**extra: str) -> dict[str, str]:
    """A minimal environment (PATH, HOME, LANG) plus ``extra``."""
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    return {**keep, **extra}


def wait_until_serving(url: str, process: "subprocess.Popen[str]") -> None:
    """Poll ``url`` until it answers; fail if the process exits or 30 s pass."""
    for _ in range(300):
        assert process.poll() is None, "the runner exited during start-up"
        try:
            httpx.get(url, timeout=1.0)
        except httpx.TransportError:
            time.sleep(0.1)
        else:
            return
    raise AssertionError("the runner did not start serving")
