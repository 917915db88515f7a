"""Part 1: `GET /api/v1/events/{id}` from the readiness cache against a per-GET apiserver read.

Each variant is a real uvicorn process (uvloop, httptools, no access log, served as
`pipeline-events serve` serves: `serve_variant.py`) pinned to CPU 0,
configured only through `PIPELINE_EVENTS_*` like a deployment: a kubeconfig with the shipped
ServiceAccount's token, the harness's trigger namespace and its SQLite store. wrk, pinned to CPU 1,
GETs the status of one Ready trigger after a warm-up. kube-apiserver and etcd are not pinned:
they take whatever CPU is left, as they would on a shared node.

Variants (`--variants`): `cache` is the production factory (`events_api.app:create_app`),
`direct` the baseline of `direct_status`; each with static tokens, or JWTs (`hs256`: the
development secret, `rs256`: a key from a JWKS endpoint). Every round runs each variant once.
"""

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from cluster import CALLER, EVENTS, TENANT, ready_trigger
from jwt_tokens import hs256_token, rs256_provider
from measuring import Throughput, median_round, parse_wrk, run_wrk

from support.knative_api import KnativeHarness

HERE = Path(__file__).resolve().parent
SERVER_CPU = "0"
APPS = {"cache": "events_api.app:create_app", "direct": "direct_status:direct_app"}
AUTHS = ("static", "hs256", "rs256")
DEFAULT_VARIANTS = ("cache-static", "direct-static", "cache-hs256", "direct-hs256", "cache-rs256")


@dataclass(frozen=True)
class Variant:
    """One server configuration to load."""

    name: str
    factory: str
    env: dict[str, str]
    token: str


@dataclass(frozen=True)
class StatusOptions:
    """How long and how hard to load each variant."""

    rounds: int
    duration: float
    warmup: float
    connections: int
    port: int
    profile: Path | None = None
    """When set, py-spy samples each server during its measured load into this folder
    (collapsed stacks, `<variant>-<round>.txt`): it costs the server some throughput."""


def _auth_env(harness: KnativeHarness) -> dict[str, tuple[dict[str, str], str]]:
    return {
        "static": (
            {
                "PIPELINE_EVENTS_AUTH_MODE": "static",
                "PIPELINE_EVENTS_AUTH_STATIC_TOKENS_FILE": str(harness.workdir / "tokens.json"),
            },
            harness.tokens[CALLER],
        )
    }


@contextmanager
def variants_for(harness: KnativeHarness, names: Sequence[str]) -> Iterator[list[Variant]]:
    """The named variants, with the JWKS endpoint running while they are used."""
    with ExitStack() as stack:
        auths = _auth_env(harness)
        if any(name.endswith("-hs256") for name in names):
            hs256 = hs256_token(TENANT)
            auths["hs256"] = (hs256.env, hs256.token)
        if any(name.endswith("-rs256") for name in names):
            rs256 = stack.enter_context(rs256_provider(TENANT))
            auths["rs256"] = (rs256.env, rs256.token)
        chosen = []
        for name in names:
            app, _, auth = name.partition("-")
            if app not in APPS or auth not in AUTHS:
                raise SystemExit(
                    f"unknown variant {name!r}: APP-AUTH, APP in {sorted(APPS)}, AUTH in {AUTHS}"
                )
            env, token = auths[auth]
            chosen.append(Variant(name=name, factory=APPS[app], env=env, token=token))
        yield chosen


def _server_env(harness: KnativeHarness, kubeconfig: Path) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "VIRTUAL_ENV")
    return {
        **{name: os.environ[name] for name in keep if name in os.environ},
        "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parents[1] / "tests")]),
        "PIPELINE_EVENTS_SQLITE_PATH": str(harness.workdir / "store.sqlite3"),
        **({"PIPELINE_EVENTS_DATABASE_URL": harness.database_url} if harness.database_url else {}),
        "PIPELINE_EVENTS_KUBECONFIG": str(kubeconfig),
        "PIPELINE_EVENTS_KNATIVE_NAMESPACE": harness.trigger_namespace,
        "PIPELINE_EVENTS_STATUS_WAIT_MAX_SECONDS": "30",
    }


def _get(url: str, token: str | None = None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - our loopback server
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _wait_ready(base: str, process: "subprocess.Popen[bytes]", log: Path) -> None:
    """Until `/readyz` answers 200: started, and the readiness cache synced."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the API exited during start-up:\n{log.read_text()}")
        try:
            if _get(base + "/readyz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the API at {base} is not ready after 60 s:\n{log.read_text()}")


def _stop(process: "subprocess.Popen[bytes]") -> None:
    """SIGTERM the server by its PID, then wait (kill it after 30 s)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def _profiled(pid: int, name: Path, options: StatusOptions) -> Iterator[None]:
    """py-spy sampling `pid` for the duration of the block, when profiling was asked for."""
    if options.profile is None:
        yield
        return
    options.profile.mkdir(parents=True, exist_ok=True)
    output = options.profile / name.name
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
    command = [py_spy, "record", "--pid", str(pid), "--format", "raw", "--output", str(output)]
    command += ["--duration", str(round(options.duration)), "--nonblocking"]
    sampler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        sampler.wait(timeout=options.duration + 30)


def measure(
    variant: Variant, *, env: dict[str, str], path: str, options: StatusOptions, log: Path
) -> tuple[Throughput, bytes]:
    """Start the variant on CPU 0, check one answer, warm up, load it; stop it by its PID."""
    base = f"http://127.0.0.1:{options.port}"
    command = ["taskset", "-c", SERVER_CPU, sys.executable, str(HERE / "serve_variant.py")]
    command += [variant.factory, "--port", str(options.port)]
    with log.open("w") as output:
        process = subprocess.Popen(
            command, env={**env, **variant.env}, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            _wait_ready(base, process, log)
            status, body = _get(base + path, variant.token)
            if status != 200 or not json.loads(body).get("ready"):
                raise SystemExit(f"{variant.name}: GET {path} answered {status} {body!r}")
            if options.warmup > 0:
                run_wrk(
                    base + path,
                    token=variant.token,
                    duration=options.warmup,
                    connections=options.connections,
                )
            with _profiled(process.pid, log.with_suffix(".txt"), options):
                output_text = run_wrk(
                    base + path,
                    token=variant.token,
                    duration=options.duration,
                    connections=options.connections,
                )
        finally:
            _stop(process)
    return parse_wrk(variant.name, output_text), body


async def run_status(
    harness: KnativeHarness, names: Sequence[str], options: StatusOptions
) -> dict[str, Throughput]:
    """Every variant `options.rounds` times, in turns; the median round of each."""
    api = await harness.instance()
    pipeline_id = await ready_trigger(harness, api)
    path = f"{EVENTS}/{pipeline_id}"
    kubeconfig = harness.apiserver.write_kubeconfig(harness.identity.token, name="bench-api")
    env = _server_env(harness, kubeconfig)
    runs: dict[str, list[Throughput]] = {name: [] for name in names}
    bodies: dict[str, bytes] = {}
    with variants_for(harness, names) as variants:
        for round_number in range(1, options.rounds + 1):
            for variant in variants:
                result, body = await asyncio.to_thread(
                    measure,
                    variant,
                    env=env,
                    path=path,
                    options=options,
                    log=harness.workdir / f"{variant.name}-{round_number}.log",
                )
                runs[variant.name].append(result)
                bodies[variant.name] = body
                print(
                    f"  status round {round_number}: {variant.name} "
                    f"{result.requests_per_second:.0f} req/s, p99 {result.p99_ms:.2f} ms",
                    file=sys.stderr,
                    flush=True,
                )
    if len(set(bodies.values())) != 1:
        raise SystemExit(f"the variants answered differently: {bodies}")
    print(
        f"  every variant answered the same bytes: {next(iter(bodies.values())).decode()}",
        file=sys.stderr,
    )
    return {name: median_round(results) for name, results in runs.items()}


def report_status(results: dict[str, Throughput], *, connections: int) -> None:
    """One line per variant, then cache/direct ratios and the 10x target."""
    print(f"status GET, wrk -t1 -c{connections} (median round of requests/s)")
    print(
        f"{'variant':<15} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} "
        f"{'non-2xx':>8}  rounds"
    )
    for result in results.values():
        invalid = "  INVALID: not every answer was a 2xx" if result.non_2xx else ""
        errors = (
            "" if result.socket_errors == "none" else f"  socket errors: {result.socket_errors}"
        )
        print(
            f"{result.name:<15} {result.requests_per_second:>8.0f} {result.p50_ms:>8.2f} "
            f"{result.p99_ms:>8.2f} {result.requests:>9} {result.non_2xx:>8}  "
            + " ".join(f"{rps:.0f}" for rps in result.rounds)
            + errors
            + invalid
        )
    for auth in AUTHS:
        cache, direct = results.get(f"cache-{auth}"), results.get(f"direct-{auth}")
        if cache is None or direct is None or not direct.requests_per_second:
            continue
        ratio = cache.requests_per_second / direct.requests_per_second
        # Paired by round: the two ran back to back, so a burst of outside load hits both.
        paired = sorted(c / d for c, d in zip(cache.rounds, direct.rounds, strict=True) if d)
        paired_median = paired[(len(paired) - 1) // 2]
        verdict = "met" if min(ratio, paired_median) >= 10 else "MISSED"
        print(
            f"cache-{auth} / direct-{auth}: {ratio:.1f}x requests/s (medians), "
            f"{paired_median:.1f}x (median of per-round ratios "
            f"{' '.join(f'{r:.1f}' for r in paired)}); target >= 10x: {verdict}; "
            f"p99 {cache.p99_ms:.2f} ms vs {direct.p99_ms:.2f} ms"
        )
