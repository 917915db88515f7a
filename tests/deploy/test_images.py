"""The two images, proven without a Docker engine.

The Dockerfiles are read with a small parser (`deploy.dockerfiles`) and held to the image rules:
stages from the pinned slim Python, a non-root user, an exec-form command, only the deployable's
extra installed at the pinned versions, OCI labels, the port exposed. Then what each image would
contain is rebuilt the same way: the wheel built from the checkout, installed with only the
extra its Dockerfile names into a fresh virtualenv (the image's `/opt/venv`), and the
Dockerfile's own command started with the environment the Dockerfile sets — from a clean
environment and an empty working folder, so nothing of the checkout or the dev virtualenv leaks
in — until `/healthz` answers. Those are the slow tests (`-m slow`).
"""

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from deploy.dockerfiles import Dockerfile, Stage, read_dockerfile
from deploy.gotools import REPO
from events_api.auth.scopes import Scope
from events_api.auth.static_tokens import encode_token_file, new_token_entry
from events_api.devstack.ports import free_port
from events_api.devstack.processes import ManagedProcess
from pipeline_models import (
    LogStep,
    PipelineId,
    PipelineOptions,
    PipelineSpec,
    PipelineVersion,
    RunnerSettings,
    StepId,
    encode_runner_env,
)

DOCKERFILES = {"api": REPO / "Dockerfile.api", "runner": REPO / "Dockerfile.runner"}
PYTHON_IMAGE = "python:3.11-slim-bookworm"
# The processes get only what the image would give them: the base's system folders on PATH (no
# /usr/local, where a stray `pipeline-events` or Python could hide) plus the Dockerfile's ENV.
BASE_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
OCI_LABELS = {
    "org.opencontainers.image.title",
    "org.opencontainers.image.description",
    "org.opencontainers.image.source",
    "org.opencontainers.image.licenses",
    "org.opencontainers.image.version",
    "org.opencontainers.image.revision",
    "org.opencontainers.image.created",
}
# What each deployable must have, and must not (the other one's, and the dev tooling).
NEEDS = {
    "api": {
        "starlette",
        "uvicorn",
        "uvloop",
        "httptools",
        "kubernetes-asyncio",
        "asyncpg",
        "pyjwt",
    },
    "runner": {"starlette", "uvicorn", "uvloop", "httptools", "cloudevents", "aiokafka", "httpx"},
}
MUST_NOT_HAVE = {
    "api": {"cloudevents", "pytest", "mypy", "ruff", "hypothesis"},
    "runner": {"kubernetes-asyncio", "asyncpg", "aiosqlite", "pyjwt", "pytest", "mypy", "ruff"},
}
_EXTRAS = re.compile(r"""["']?\.\[(?P<extras>[^\]]+)\]["']?""")
_START_TIMEOUT = 60.0


@pytest.fixture(scope="module", params=sorted(DOCKERFILES))
def deployable(request: pytest.FixtureRequest) -> str:
    """`api` or `runner`."""
    name: str = request.param
    return name


def dockerfile_of(deployable: str) -> Dockerfile:
    """The deployable's Dockerfile, parsed."""
    return read_dockerfile(DOCKERFILES[deployable], base_env=BASE_ENV)


def pip_installs(stage: Stage) -> list[str]:
    """The `pip install` commands of the stage's RUN instructions."""
    commands = [part.strip() for run in stage.texts("RUN") for part in run.split("&&")]
    return [command for command in commands if re.search(r"\bpip install\b", command)]


def installed_extras(dockerfile: Dockerfile) -> set[str]:
    """The project's extras every stage's `pip install .[...]` names."""
    extras: set[str] = set()
    for stage in dockerfile.stages:
        for command in pip_installs(stage):
            for match in _EXTRAS.finditer(command):
                extras.update(item.strip() for item in match.group("extras").split(","))
    return extras


def test_builds_in_stages_from_the_pinned_slim_python(deployable: str) -> None:
    dockerfile = dockerfile_of(deployable)
    assert len(dockerfile.stages) >= 2, "multi-stage: the build tools stay out of the image"
    assert {stage.base for stage in dockerfile.stages} == {PYTHON_IMAGE}
    copies = dockerfile.final.texts("COPY")
    assert [c for c in copies if c.startswith("--from=")], "the final stage copies the build's"
    assert not dockerfile.final.texts("RUN") or all(
        "pip install" not in run for run in dockerfile.final.texts("RUN")
    ), "installing happens in the build stage"


def test_runs_as_a_non_root_user(deployable: str) -> None:
    final = dockerfile_of(deployable).final
    assert final.user is not None, "no USER: the image would run as root"
    uid, _, gid = final.user.partition(":")
    # Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
    assert uid.isdigit(), f"USER {final.user}: use a numeric uid"
    assert int(uid) != 0
    assert not gid or (gid.isdigit() and int(gid) != 0)
    assert any(f"--uid {uid}" in run for run in final.texts("RUN")), "the user has a passwd entry"


def test_command_is_exec_form(deployable: str) -> None:
    final = dockerfile_of(deployable).final
    assert final.cmd is not None
    assert final.cmd.exec_form, "shell form: SIGTERM would reach a shell, not the server"
    assert final.entrypoint is None or final.entrypoint.exec_form
    if final.cmd.argv[:2] == ("/bin/sh", "-c"):
        # The shell may only prepare the environment, then must hand over its PID.
        assert " exec " in f" {final.cmd.argv[2]}"


def test_installs_only_its_extra_at_the_pinned_versions(deployable: str) -> None:
    dockerfile = dockerfile_of(deployable)
    assert installed_extras(dockerfile) == {deployable}
    for stage in dockerfile.stages:
        for command in pip_installs(stage):
            assert re.search(r"(-c|--constraint)[ =]constraints\.txt\b", command), command


def test_carries_the_oci_labels(deployable: str) -> None:
    labels = dockerfile_of(deployable).final.labels
    assert set(labels) >= OCI_LABELS
    assert labels["org.opencontainers.image.title"] == f"pipeline-events-{deployable}"
    project = _pyproject_version()
    assert labels["org.opencontainers.image.version"] == project
    assert labels["org.opencontainers.image.licenses"] == "Apache-2.0"


def test_exposes_the_port_it_serves(deployable: str) -> None:
    final = dockerfile_of(deployable).final
    assert final.env["PORT"] in final.exposed
    assert final.env.get("PYTHONDONTWRITEBYTECODE") == "1", "the root filesystem is read-only"


def _pyproject_version() -> str:
    match = re.search(r'^version = "([^"]+)"', (REPO / "pyproject.toml").read_text(), re.M)
    assert match
    return match.group(1)


def _dockerignore_regex(pattern: str) -> re.Pattern[str]:
    """Docker's pattern syntax: `*` and `?` stay within a path element, `**` crosses them."""
    parts = []
    for token in re.split(r"(\*\*/?|\*|\?)", pattern.strip("/")):
        if token.startswith("**"):
            parts.append("(.*/)?" if token.endswith("/") else ".*")
        elif token == "*":
            parts.append("[^/]*")
        elif token == "?":
            parts.append("[^/]")
        else:
            parts.append(re.escape(token))
    return re.compile("".join(parts))


def in_build_context(path: str, patterns: list[str]) -> bool:
    """Whether `.dockerignore`'s `patterns` send `path` (or a folder above it) to the builder."""
    prefixes = [path] + ["/".join(path.split("/")[:n]) for n in range(1, path.count("/") + 1)]
    included = True
    for pattern in patterns:
        negated = pattern.startswith("!")
        regex = _dockerignore_regex(pattern.removeprefix("!"))
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            included = negated
    return included


def test_the_build_context_holds_what_the_images_copy_and_nothing_else() -> None:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    copied: set[str] = set()
    for path in DOCKERFILES.values():
        for stage in read_dockerfile(path).stages:
            for text in stage.texts("COPY"):
                words = [w for w in text.split() if not w.startswith("--")]
                if not text.startswith("--from="):
                    copied.update(words[:-1])
    assert copied >= {"pyproject.toml", "constraints.txt", "shared", "services"}
    for source in copied:
        assert in_build_context(source, patterns), f"{source} is copied but ignored"
    assert in_build_context("services/events_api/app.py", patterns)
    for stray in (
        ".git/HEAD",
        ".venv/bin/python",
        "tests/unit/test_x.py",
        "k8s/base/rbac.yaml",
        "services/events_api/__pycache__/app.cpython-311.pyc",
        "pipeline_events.egg-info/PKG-INFO",
        "pipeline-events.sqlite3",
    ):
        assert not in_build_context(stray, patterns), f"{stray} would be sent to the builder"


# The slow half: the wheel, a virtualenv per image, the image's command.


@dataclass(frozen=True)
class Installed:
    """A fresh virtualenv standing in for one image's /opt/venv."""

    deployable: str
    venv: Path
    dockerfile: Dockerfile

    def image_env(self) -> dict[str, str]:
        """The image's environment, with its virtualenv's path pointing at this one."""
        image_venv = self.dockerfile.final.env["VIRTUAL_ENV"]
        return {
            name: value.replace(image_venv, str(self.venv))
            for name, value in self.dockerfile.final.env.items()
        }

    def distributions(self) -> dict[str, str]:
        """Installed distributions (normalized names) and versions."""
        listed = subprocess.run(
            [str(self.venv / "bin" / "python"), "-m", "pip", "list", "--format=json"],
            capture_output=True,
            check=True,
            text=True,
            timeout=120,
        ).stdout
        return {_normalize(item["name"]): item["version"] for item in json.loads(listed)}


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from the checkout as the images' `pip install .` builds it."""
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(REPO), "-w", str(folder)],
        check=True,
        timeout=300,
    )
    (built,) = folder.glob("pipeline_events-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(deployable: str, wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel with exactly the extra the deployable's Dockerfile installs, in a fresh venv."""
    dockerfile = dockerfile_of(deployable)
    (extra,) = installed_extras(dockerfile)
    venv = tmp_path_factory.mktemp(f"venv-{deployable}") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [
            str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
            "--disable-pip-version-check", "--no-compile",
            "-c", str(REPO / "constraints.txt"),
            f"{wheel}[{extra}]",
        ],
        check=True,
        timeout=600,
    )  # fmt: skip
    return Installed(deployable=deployable, venv=venv, dockerfile=dockerfile)


def _pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        name, equals, version = line.partition("==")
        if equals and not line.startswith("#"):
            pins[_normalize(name)] = version.strip()
    return pins


@pytest.mark.slow
def test_the_image_holds_its_extra_at_the_pinned_versions_and_nothing_more(
    installed: Installed,
) -> None:
    installed_now = installed.distributions()
    missing = NEEDS[installed.deployable] - set(installed_now)
    assert not missing, f"the {installed.deployable} image lacks {missing}"
    extra = MUST_NOT_HAVE[installed.deployable] & set(installed_now)
    assert not extra, f"the {installed.deployable} image carries {extra}"
    pins = _pins()
    off_pin = {
        name: (version, pins[name])
        for name, version in installed_now.items()
        if name in pins and pins[name] != version
    }
    assert not off_pin, f"installed versions differ from constraints.txt: {off_pin}"


def _get(url: str, headers: Mapping[str, str] | None = None) -> int:
    request = urllib.request.Request(url, headers=dict(headers or {}))  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
            status: int = response.status
            return status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0


@dataclass(frozen=True)
class Served:
    """The image's command, running: its process, port and (for the API) a caller's token."""

    process: ManagedProcess
    port: int
    token: str = ""


@pytest.fixture
def image_process(installed: Installed, tmp_path: Path) -> Iterator[Served]:
    """The Dockerfile's CMD, started as the image would start it, on a free loopback port.

    `PORT` is the only port setting given: the image must honour it.
    """
    final = installed.dockerfile.final
    assert final.cmd is not None
    port = free_port()
    env = {**installed.image_env(), "PORT": str(port)}
    token = ""
    if installed.deployable == "api":
        # Pipelines only (no cluster here), SQLite, and a static token file.
        tokens = tmp_path / "tokens.json"
        new = new_token_entry(name="image-test", tenant="team-a", scopes=list(Scope))
        tokens.write_bytes(encode_token_file([new.entry]))
        token = new.token
        env |= {
            "PIPELINE_EVENTS_HOST": "127.0.0.1",
            "PIPELINE_EVENTS_TRIGGER_BACKEND": "none",
            "PIPELINE_EVENTS_AUTH_STATIC_TOKENS_FILE": str(tokens),
            "PIPELINE_EVENTS_SQLITE_PATH": str(tmp_path / "store" / "pipelines.sqlite3"),
        }
    else:
        env |= {
            "HOST": "127.0.0.1",
            **encode_runner_env(pipeline=_version(), settings=RunnerSettings()),
        }
    workdir = tmp_path / "workdir"
    workdir.mkdir()
    process = ManagedProcess(
        f"the {installed.deployable} image's command",
        final.cmd.argv,
        log_path=tmp_path / "server.log",
        cwd=workdir,
        env=env,
        stop_timeout=25.0,
    )
    process.start()
    try:
        process.wait_until_ready(
            lambda: _get(f"http://127.0.0.1:{port}/healthz") == 200, timeout=_START_TIMEOUT
        )
        yield Served(process=process, port=port, token=token)
    finally:
        process.stop()


def _version() -> PipelineVersion:
    return PipelineVersion(
        pipeline_id=PipelineId("pipeline-k3v9x0q2m1ab"),
        version=1,
        spec=PipelineSpec(
            name="orders",
            options=PipelineOptions(event="orders"),
            steps=(LogStep(id=StepId("log"), message="an order arrived"),),
        ),
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
    )


@pytest.mark.slow
def test_the_image_command_serves_with_uvloop_and_httptools_from_its_virtualenv(
    installed: Installed, image_process: Served
) -> None:
    process, base = image_process.process, f"http://127.0.0.1:{image_process.port}"
    assert _get(f"{base}/healthz") == 200
    # The serving process (the shell `exec`s it) has uvloop's and httptools' compiled modules
    # loaded from the virtualenv: the server runs on them, and nothing came from the checkout.
    mapped = Path(f"/proc/{process.pid}/maps").read_text()
    site = installed.venv / "lib"
    for module in ("uvloop/loop", "httptools/parser/parser"):
        assert re.search(
            rf"{re.escape(str(site))}/python3\.\d+/site-packages/{module}\.", mapped
        ), f"{module} is not loaded from {site}"
    assert str(REPO) not in mapped, "a module was loaded from the checkout"
    if installed.deployable == "api":
        auth = {"Authorization": f"Bearer {image_process.token}"}
        assert _get(f"{base}/api/v1/pipelines", auth) == 200
        assert _get(f"{base}/api/v1/pipelines") == 401
        assert _get(f"{base}/api/v1/events/pipeline-k3v9x0q2m1ab", auth) in {404, 503}
    else:
        event = urllib.request.Request(  # noqa: S310 - loopback
            f"{base}/",
            data=b'{"order": 1}',
            method="POST",
            headers={
                "ce-specversion": "1.0",
                "ce-id": "partition:0/offset:1",
                "ce-source": "/apis/v1/namespaces/t/kafkasources/orders#orders",
                "ce-type": "dev.knative.kafka.event",
                "content-type": "application/json",
            },
        )
        with urllib.request.urlopen(event, timeout=5) as response:  # noqa: S310
            assert response.status == 200
    process.stop()
    # SIGTERM ends it gracefully (uvicorn re-raises the signal after draining); not SIGKILL.
    assert process.exit_code() in {0, -15}
