"""PostgreSQL from the distribution's packages (Debian's postgresql-15), one fresh cluster per use.

`initdb` and the server refuse to run as root, so as root both run as the `postgres` user the
package creates. The server listens on 127.0.0.1 and a free port, with its socket in our own
folder, and trades durability for speed (fsync off): this is for tests and development only.
"""

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from events_api.devstack.errors import ToolMissing
from events_api.devstack.ports import free_port
from events_api.devstack.processes import ManagedProcess, run_tool

POSTGRES_MAJOR = 15
_SERVICE_USER = "postgres"
_INSTALL_HINT = (
    f"install PostgreSQL {POSTGRES_MAJOR} (Debian: apt-get install postgresql-{POSTGRES_MAJOR}) "
    "or set PIPELINE_EVENTS_PG_BINDIR to the folder holding initdb and postgres"
)


def find_postgres_bindir() -> Path:
    """The folder with `initdb` and `postgres`: `$PIPELINE_EVENTS_PG_BINDIR`, else Debian's.

    Raises:
        ToolMissing: no PostgreSQL server binaries were found.
    """
    candidates = [os.environ.get("PIPELINE_EVENTS_PG_BINDIR", "")]
    candidates.append(f"/usr/lib/postgresql/{POSTGRES_MAJOR}/bin")
    pg_config = shutil.which("pg_config")
    if pg_config:
        output = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=False
        )
        candidates.append(output.stdout.strip())
    for candidate in filter(None, candidates):
        bindir = Path(candidate)
        if (bindir / "initdb").exists() and (bindir / "postgres").exists():
            return bindir
    raise ToolMissing(f"no PostgreSQL server found: {_INSTALL_HINT}")


def _service_user() -> str | None:
    """The user to run PostgreSQL as: `postgres` when we are root, else ourselves (None)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(_SERVICE_USER)
    except KeyError as error:
        raise ToolMissing(
            f"running PostgreSQL as root needs the `{_SERVICE_USER}` user: {_INSTALL_HINT}"
        ) from error
    return _SERVICE_USER


def _hand_over(path: Path, user: str | None) -> None:
    """Make `path` (a folder we created) usable by the server's user."""
    if user is None:
        return
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)


@dataclass
class PostgresServer:
    """A running PostgreSQL cluster; `stop()` ends it (safe to call twice)."""

    host: str
    port: int
    user: str
    database: str
    workdir: Path
    process: ManagedProcess

    @property
    def dsn(self) -> str:
        """A libpq connection URI (trust authentication on loopback: no password)."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"

    def stop(self) -> None:
        """Fast shutdown by PID (SIGINT), SIGKILL after a deadline; then remove its files."""
        self.process.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "PostgresServer":
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def start_postgres(*, start_timeout: float = 60.0) -> PostgresServer:
    """Create a fresh cluster in a new temporary folder and start it on 127.0.0.1 and a free port.

    The folder is made here, not by the caller, because the server's user must be able to reach
    it (pytest's and mkdtemp's folders are private to root); `stop()` removes it.

    Raises:
        ToolMissing: PostgreSQL is not installed.
        ProvisioningFailed: initdb failed or the server exited while starting.
        StartTimeout: the server did not accept connections within `start_timeout` seconds.
    """
    bindir = find_postgres_bindir()
    user = _service_user()
    workdir = Path(tempfile.mkdtemp(prefix="pipeline-events-pg-"))
    workdir.chmod(0o755)
    data, sockets = workdir / "data", workdir / "sockets"
    for folder in (data, sockets):
        folder.mkdir(exist_ok=True)
        _hand_over(folder, user)
    log_path = workdir / "postgres.log"
    log_path.touch()
    _hand_over(log_path, user)
    run_tool(
        [
            str(bindir / "initdb"),
            "--pgdata",
            str(data),
            "--username",
            "postgres",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C.UTF-8",
            "--no-sync",
        ],
        what="initdb",
        log_path=workdir / "initdb.log",
        timeout=120,
        cwd=workdir,
        user=user,
    )
    port = free_port()
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": str(sockets),
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "200",
    }
    argv = [str(bindir / "postgres"), "-D", str(data)]
    for key, value in settings.items():
        argv += ["-c", f"{key}={value}"]
    # SIGINT is PostgreSQL's "fast" shutdown: it ends sessions instead of waiting for them.
    process = ManagedProcess(
        f"PostgreSQL {POSTGRES_MAJOR}",
        argv,
        log_path=log_path,
        cwd=workdir,
        user=user,
        stop_signal=signal.SIGINT,
    )
    process.start()
    pg_isready = bindir / "pg_isready"

    def is_ready() -> bool:
        check = subprocess.run(
            [str(pg_isready), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-t", "1"],
            capture_output=True,
            timeout=10,
            check=False,
        )
        return check.returncode == 0

    process.wait_until_ready(is_ready, timeout=start_timeout)
    return PostgresServer(
        host="127.0.0.1",
        port=port,
        user="postgres",
        database="postgres",
        workdir=workdir,
        process=process,
    )
