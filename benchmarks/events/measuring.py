"""Load and statistics shared by the parts: wrk against a real server process, percentiles of
sampled latencies, and the median of rounds.
"""

import re
import statistics
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, replace

LOAD_CPU = "1"


@dataclass(frozen=True)
class Throughput:
    """What wrk measured in one run."""

    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: str = "none"
    rounds: tuple[float, ...] = ()
    """Requests/s of every round, in order (the result is the round with the median)."""


def run_wrk(url: str, *, token: str, duration: float, connections: int) -> str:
    """wrk (one thread, pinned to CPU 1) GETting `url` with a bearer token; its output."""
    seconds = max(1, round(duration))  # wrk takes whole seconds
    command = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s"]
    command += ["--latency", "-H", f"Authorization: Bearer {token}", url]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _milliseconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if match is None:
        raise SystemExit(f"cannot read the latency {text!r} in wrk's output")
    return float(match[1]) * _UNITS[match[2]]


def parse_wrk(name: str, output: str) -> Throughput:
    """The requests/s, p50, p99, request count and failures of a `wrk --latency` run."""

    def find(pattern: str) -> str:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            raise SystemExit(f"cannot read {pattern!r} in wrk's output:\n{output}")
        return match[1]

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)$", output, re.MULTILINE)
    return Throughput(
        name=name,
        requests_per_second=float(find(r"^Requests/sec:\s+([\d.]+)")),
        p50_ms=_milliseconds(find(r"^\s+50%\s+(\S+)")),
        p99_ms=_milliseconds(find(r"^\s+99%\s+(\S+)")),
        requests=int(find(r"^\s+(\d+) requests in")),
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=errors[1] if errors else "none",
    )


def median_round(results: Sequence[Throughput]) -> Throughput:
    """The round with the median requests/s (the lower middle for an even count)."""
    ranked = sorted(results, key=lambda result: result.requests_per_second)
    middle = ranked[(len(ranked) - 1) // 2]
    return replace(middle, rounds=tuple(result.requests_per_second for result in results))


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The `fraction` quantile (0..1) of `samples`, interpolated between closest ranks."""
    if len(samples) == 1:
        return samples[0]
    points = statistics.quantiles(samples, n=1000, method="inclusive")
    return points[round(fraction * 1000) - 1]
