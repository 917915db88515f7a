"""Part 2: `POST /api/v1/events/{id}` latency, with and without an existing trigger.

Through the harness's in-process API (httpx over ASGI, the shipped ServiceAccount, the Knative
controller stand-in adding the KafkaSource finalizer as the Kafka controller does), one start
at a time, so each latency is one start's own path: store writes, then the Kubernetes calls.

* ``new``       a pipeline that was never started: the Service, then the KafkaSource, created
                (after the reads that find them absent).
* ``existing``  a pipeline whose trigger runs: Service and source replaced in place (a new
                revision), guarded by their resourceVersions.

The two kinds alternate start by start (which goes first alternates too); pipelines are created
beforehand, untimed. A few starts of each kind warm up first, unmeasured.
"""

import sys
import time
from dataclasses import dataclass

from cluster import create_pipeline, start
from measuring import percentile

from support.knative_api import KnativeHarness

WARMUP = 5
EXISTING_POOL = 10


@dataclass(frozen=True)
class StartLatencies:
    """Seconds per start, by kind."""

    new: list[float]
    existing: list[float]


async def run_starts(harness: KnativeHarness, *, starts: int, rounds: int) -> StartLatencies:
    """`starts` measured starts of each kind, in `rounds` batches, interleaved."""
    api = await harness.instance()
    existing = [await create_pipeline(api) for _ in range(EXISTING_POOL)]
    for pipeline_id in existing:
        await start(api, pipeline_id)
    fresh = [await create_pipeline(api) for _ in range(starts + WARMUP)]
    latencies = StartLatencies(new=[], existing=[])

    async def timed(pipeline_id: str) -> float:
        began = time.perf_counter()
        await start(api, pipeline_id)
        return time.perf_counter() - began

    per_round = -(-starts // rounds)
    for index, pipeline_id in enumerate(fresh):
        again = existing[index % EXISTING_POOL]
        if index % 2 == 0:
            new_seconds, existing_seconds = await timed(pipeline_id), await timed(again)
        else:
            existing_seconds, new_seconds = await timed(again), await timed(pipeline_id)
        if index >= WARMUP:
            latencies.new.append(new_seconds)
            latencies.existing.append(existing_seconds)
            measured = index - WARMUP + 1
            if measured % per_round == 0 or measured == starts:
                print(
                    f"  starts {measured}/{starts}: new p50 "
                    f"{percentile(latencies.new, 0.5) * 1000:.1f} ms, existing p50 "
                    f"{percentile(latencies.existing, 0.5) * 1000:.1f} ms",
                    file=sys.stderr,
                    flush=True,
                )
    return latencies


def report_starts(latencies: StartLatencies) -> None:
    """One line per kind: count, p50, p99, max."""
    print("start POST, one at a time, in-process ASGI client, real kube-apiserver")
    print(f"{'trigger':<15} {'starts':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, samples in (("none (create)", latencies.new), ("existing", latencies.existing)):
        print(
            f"{name:<15} {len(samples):>6} {percentile(samples, 0.5) * 1000:>8.1f} "
            f"{percentile(samples, 0.99) * 1000:>8.1f} {max(samples) * 1000:>8.1f}"
        )
