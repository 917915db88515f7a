"""Managed processes: started, stopped by PID, and failures that quote the log."""

import sys
from pathlib import Path

import pytest

from events_api.devstack.errors import ProvisioningFailed, StartTimeout, ToolMissing
from events_api.devstack.processes import ManagedProcess, log_tail, run_tool


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_stop_ends_a_running_process_and_is_idempotent(tmp_path: Path) -> None:
    process = ManagedProcess(
        "sleeper", _python("import time; time.sleep(60)"), log_path=tmp_path / "log"
    )
    process.start()
    assert process.exit_code() is None
    process.stop()
    assert process.exit_code() is not None
    process.stop()


def test_a_process_that_ignores_the_stop_signal_is_killed(tmp_path: Path) -> None:
    stubborn = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('armed', flush=True)\n"
        "time.sleep(60)\n"
    )
    process = ManagedProcess(
        "stubborn", _python(stubborn), log_path=tmp_path / "log", stop_timeout=0.5
    )
    process.start()
    process.wait_until_ready(lambda: "armed" in (tmp_path / "log").read_text(), timeout=30)
    process.stop()
    assert process.exit_code() == -9


def test_kill_ends_a_process_at_once(tmp_path: Path) -> None:
    process = ManagedProcess(
        "victim", _python("import time; time.sleep(60)"), log_path=tmp_path / "log"
    )
    process.start()
    process.kill()
    assert process.exit_code() == -9
    process.kill()
    process.stop()


def test_death_while_starting_quotes_the_log(tmp_path: Path) -> None:
    process = ManagedProcess(
        "crasher",
        _python("print('port already in use'); raise SystemExit(3)"),
        log_path=tmp_path / "log",
    )
    process.start()
    with pytest.raises(ProvisioningFailed, match=r"(?s)code 3.*port already in use"):
        process.wait_until_ready(lambda: False, timeout=30)


def test_not_ready_in_time_stops_the_process(tmp_path: Path) -> None:
    process = ManagedProcess(
        "slowpoke", _python("import time; time.sleep(60)"), log_path=tmp_path / "log"
    )
    process.start()
    with pytest.raises(StartTimeout, match="slowpoke was not ready"):
        process.wait_until_ready(lambda: False, timeout=0.3, interval=0.05)
    assert process.exit_code() is not None


def test_run_tool_reports_the_exit_code_and_output(tmp_path: Path) -> None:
    with pytest.raises(ProvisioningFailed, match=r"(?s)exit 2.*bad flag"):
        run_tool(
            _python("import sys; print('bad flag'); sys.exit(2)"),
            what="a tool",
            log_path=tmp_path / "tool.log",
            timeout=30,
        )


def test_run_tool_names_a_missing_program(tmp_path: Path) -> None:
    with pytest.raises(ToolMissing, match="not-a-real-program"):
        run_tool(["not-a-real-program"], what="x", log_path=tmp_path / "log", timeout=5)


def test_log_tail_keeps_the_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_text("".join(f"line {n}\n" for n in range(100)))
    assert log_tail(log, lines=2) == "line 98\nline 99"
    assert "no log" in log_tail(tmp_path / "missing")
