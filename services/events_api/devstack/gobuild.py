"""Go programs built from the small Go modules under `tools/`, cached by content.

Each module pins its dependencies in `go.mod`/`go.sum`; the binary is cached under a key made of
those files, the module's own sources and the Go version, so a second build is a file lookup and a
changed pin rebuilds. Go's module and build caches (`GOMODCACHE`, `GOCACHE`) sit outside the
checkout too, so even a rebuild after a small change takes seconds.
"""

import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from events_api.devstack.cache import cache_root
from events_api.devstack.errors import ToolMissing
from events_api.devstack.locking import exclusive_lock
from events_api.devstack.processes import run_tool

TOOLS_ENV = "PIPELINE_EVENTS_TOOLS_DIR"
_GO_INSTALL_HINT = "install Go 1.26 or newer (https://go.dev/doc/install) and put it on PATH"
_BUILD_TIMEOUT = 3600.0

Progress = Callable[[str], None]


def _ignore(_: str) -> None:
    """A progress sink that says nothing."""


def tools_dir() -> Path:
    """The `tools/` folder of the checkout (or `$PIPELINE_EVENTS_TOOLS_DIR`).

    Raises:
        ToolMissing: it is not there (an installed wheel carries no Go modules).
    """
    configured = os.environ.get(TOOLS_ENV)
    folder = Path(configured) if configured else Path(__file__).resolve().parents[3] / "tools"
    if not (folder / "etcd" / "go.mod").exists():
        raise ToolMissing(
            f"the Go tool modules are not at {folder}: run from a checkout of pipeline-events "
            f"or set {TOOLS_ENV}"
        )
    return folder


def go_executable() -> str:
    """The `go` command on PATH.

    Raises:
        ToolMissing: Go is not installed.
    """
    found = shutil.which("go")
    if found is None:
        raise ToolMissing(f"building the test infrastructure needs Go: {_GO_INSTALL_HINT}")
    return found


def _go_version(go: str) -> str:
    return subprocess.run(
        [go, "env", "GOVERSION"], capture_output=True, text=True, timeout=60, check=True
    ).stdout.strip()


def _module_key(module: Path, package: str, go_version: str) -> str:
    digest = hashlib.sha256(f"{package}\n{go_version}\n".encode())
    for path in sorted(module.rglob("*")):
        if path.is_file() and (path.suffix in {".go", ".mod", ".sum"}):
            digest.update(str(path.relative_to(module)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def build_go_program(
    module: Path,
    package: str,
    *,
    name: str,
    ldflags: str = "",
    cache: Path | None = None,
    progress: Progress = _ignore,
) -> Path:
    """The binary of `package`, built in the Go module at `module` unless already cached.

    Raises:
        ToolMissing: Go is not installed.
        ProvisioningFailed: the build failed (the message quotes the build log).
    """
    go = go_executable()
    key = _module_key(module, f"{package} {ldflags}", _go_version(go))
    home = (cache or cache_root()) / "bin"
    binary = home / f"{name}-{key}"
    if binary.exists():
        return binary
    home.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(home / f".{name}.lock"):
        if binary.exists():
            return binary
        progress(f"Building {name} from its Go module (first run only; can take minutes)…")
        partial = binary.with_suffix(".partial")
        env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly -buildvcs=false"}
        run_tool(
            [go, "build", "-trimpath", f"-ldflags={ldflags}", "-o", str(partial), package],
            what=f"building {name}",
            log_path=home / f"{name}.build.log",
            timeout=_BUILD_TIMEOUT,
            cwd=module,
            env=env,
        )
        partial.rename(binary)
        progress(f"{name} built: {binary}")
    return binary
