"""End to end through dev mode: records produced to Kafka → results consumed from the output topic.

    .venv/bin/python benchmarks/e2e/run.py [--records 10000] [--partitions 4] [--rounds 3]
                                           [--rate 0] [--variants ...] [--keep-workdir]

What runs is what `pipeline-events dev` runs: the real API process (`pipeline-events serve` with
the local trigger backend, SQLite, static tokens), which starts for each pipeline a real runner
process (`python -m pipeline_runner`) and an aiokafka consumer POSTing each record to it as a
KafkaSource's CloudEvent; the pipeline is `transform` → `kafka` (the record's id and send time,
keyed like the record, to the output topic). Kafka is a fresh single-node broker
(`events_api.devstack.start_kafka`). Variants, side by side in the same run:

* ``passthrough``     a plain aiokafka consume → produce loop in its own process (`passthrough.py`,
  `acks=all` like the runner's kafka step, whole batches in flight): the ceiling of broker and
  client on this machine;
* ``local-ordered``   the pipeline with `ordering: ordered` (one record in flight per partition,
  the next after the previous one's 2xx — Knative's default);
* ``local-unordered`` the same with `ordering: unordered` (up to 50 in flight per partition).

Every other delivery option is the default a tenant gets. Per variant and round: fresh topics
(`--partitions` each), a fresh consumer group, a warm-up of 200 records (connections, the
runner's lazily started producer), then `--records` keyed records produced as one burst, or
paced at `--rate` records/s. Each record's value carries its send time (`time.time_ns()` when
handed to the producer); a result's latency is the time this process *consumed* it from the
output topic minus that send time. Under a burst that is mostly the wait behind earlier records
(p99 near the whole run's length); a `--rate` below every variant's capacity shows the latency of
one event through the path instead. events/s = records / (last result consumed - first record
sent): under a burst, the throughput; paced, about the rate. The CPU time of each process
(broker, API, runner, passthrough, this one) over the measured phase is read from /proc and
printed per 1,000 events: it says which process the path spends its time in. The variants take
turns (`--rounds`, the order rotating) and each result is the variant's median round by
events/s; ratios are to the passthrough's median. The passthrough batches what it forwards while
the pipeline makes one HTTP request and one acknowledged produce per record, so expect a ratio far
below 1: it bounds what the broker allows, not what the path could reach.

Everything shares the machine — the broker (a JVM), the API, the runner and this process, which
produces and consumes — so read the ratios, not the absolute numbers, and mind the load average
printed before and after. Duplicates (a result seen twice) are counted and would be a defect here
(no restarts). Progress lines go to stderr; one table goes to stdout. The script stops what it
started by PID (the API stops its runners; leftovers are killed), also on Ctrl-C or a failure.

Needs the project's .venv (`scripts/bootstrap`), Java 17 and Kafka's cached jars (first run:
Maven).
"""

import argparse
import asyncio
import contextlib
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from aiokafka import AIOKafkaProducer

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
# The end-to-end tests' API process and REST helpers (`tests/e2e`) and the tests' topic helpers
# (`tests/support`), as benchmarks/events reuses `tests/support`.
sys.path.insert(0, str(ROOT / "tests"))

from e2e.api_process import ApiProcess  # noqa: E402
from e2e.flow import create_pipeline, start_trigger, stop_trigger, wait_until_serving  # noqa: E402
from events_api.devstack import KafkaServer, start_kafka  # noqa: E402
from support.kafka_topics import Record, TopicCollector, create_topics  # noqa: E402

VARIANTS = ("passthrough", "local-ordered", "local-unordered")
WARMUP_RECORDS = 200
KEYS = 16
PROGRESS_SECONDS = 5.0
READY_SECONDS = 120.0


# A reader of a topic created a moment ago may ask a broker not yet its leader; aiokafka logs that
# at ERROR and retries. Its messages would bury the progress lines.
logging.getLogger("aiokafka.consumer.fetcher").setLevel(logging.CRITICAL)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


@dataclass(frozen=True)
class Result:
    """One variant's measurement in one round."""

    variant: str
    records: int
    events_per_second: float
    p50_ms: float
    p99_ms: float
    duplicates: int
    seconds: float
    """Wall time of the measured burst (first record sent to last result consumed)."""
    cpu: dict[str, float]
    """CPU seconds each component used meanwhile (broker, api, runner, passthrough, bench)."""


Pids = dict[str, list[int]]
"""A component's name → its processes."""

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (a gone process counts 0)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        # utime and stime are fields 14 and 15 of stat(5); fields[0] is field 3 (state).
        total += (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
    return total


def cpu_of(components: Pids) -> dict[str, float]:
    """Each component's CPU seconds so far."""
    return {name: cpu_seconds(pids) for name, pids in components.items()}


class OutputReader(TopicCollector):
    """Consumes the output topic from its beginning; first arrival time per id, duplicates."""

    def __init__(self, bootstrap_servers: str, topic: str) -> None:
        super().__init__(bootstrap_servers, topic)
        self.arrived: dict[str, int] = {}
        """Id → `time.time_ns()` when its first result was consumed."""
        self.sent: dict[str, int] = {}
        """Id → the send time its result carries."""
        self.duplicates = 0

    def _received(self, records: list[Record]) -> None:
        """Note when each id first arrived (instead of keeping every record)."""
        now = time.time_ns()
        for record in records:
            value = msgspec.json.decode(record.value)
            if value["id"] in self.arrived:
                self.duplicates += 1
            else:
                self.arrived[value["id"]] = now
                self.sent[value["id"]] = value["sent_ns"]

    async def wait_for(self, ids: set[str], *, label: str, bound: float) -> None:
        """Wait until every id arrived, saying how far it got every few seconds (bounded)."""
        started = time.monotonic()
        async with asyncio.timeout(bound):
            while True:
                try:
                    async with asyncio.timeout(PROGRESS_SECONDS):
                        await self.wait_until(lambda: ids <= self.arrived.keys())
                except TimeoutError:
                    done = len(ids & self.arrived.keys())
                    elapsed = time.monotonic() - started
                    _say(f"  {label}: {done:,}/{len(ids):,} results after {elapsed:.0f} s")
                else:
                    return


async def produce_burst(servers: str, topic: str, ids: list[str], *, rate: float = 0) -> int:
    """Produce one record per id as fast as the producer takes them, or `rate` per second;
    the first send time."""
    producer = AIOKafkaProducer(bootstrap_servers=servers, linger_ms=5)
    await producer.start()
    try:
        first = time.time_ns()
        started = time.monotonic()
        pending = []
        for index, record_id in enumerate(ids):
            if rate > 0:
                # Paced: each record at its slot of the schedule (no catching up in bursts).
                await asyncio.sleep(max(0.0, started + index / rate - time.monotonic()))
            value = {"id": record_id, "sent_ns": time.time_ns()}
            key = f"key-{index % KEYS}".encode()
            pending.append(await producer.send(topic, msgspec.json.encode(value), key=key))
        for future in pending:
            await future
    finally:
        await producer.stop()
    return first


def pipeline_body(source: str, output: str, ordering: str) -> dict[str, Any]:
    """transform → kafka: the record's id and send time to `output`, keyed like the record."""
    return {
        "name": f"bench-{ordering}",
        "options": {"event": source, "delivery": {"ordering": ordering}},
        "steps": [
            {
                "type": "transform",
                "id": "shape",
                "output": {"id": "${{ event.data.id }}", "sent_ns": "${{ event.data.sent_ns }}"},
            },
            {
                "type": "kafka",
                "id": "out",
                "topic": output,
                "key": "${{ event.key }}",
                "value": "${{ steps.shape }}",
            },
        ],
    }


@contextlib.asynccontextmanager
async def passthrough(kafka: KafkaServer, source: str, output: str, log: Path) -> Any:
    """The passthrough process, until the block ends (stopped by PID); yields its PIDs."""
    with log.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(HERE / "passthrough.py"),
            "--bootstrap-servers",
            kafka.bootstrap_servers,
            "--source",
            source,
            "--output",
            output,
            stdout=asyncio.subprocess.PIPE,
            stderr=log_file,
        )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(READY_SECONDS):
            line = await process.stdout.readline()
        if line.strip() != b"ready":
            raise SystemExit(f"the passthrough did not start; see its log {log}")
        yield {"passthrough": [process.pid]}
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(30):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()


@contextlib.asynccontextmanager
async def local_trigger(api: ApiProcess, source: str, output: str, ordering: str) -> Any:
    """A started trigger of the transform → kafka pipeline, until the block ends (DELETE);
    yields the PIDs of the API and the runner."""
    pipeline_id = await create_pipeline(api, pipeline_body(source, output, ordering))
    await start_trigger(api, pipeline_id)
    await wait_until_serving(api, pipeline_id)
    try:
        assert api.pid is not None
        yield {"api": [api.pid], "runner": sorted(api.runner_pids())}
    finally:
        await stop_trigger(api, pipeline_id)


async def measure(
    variant: str, *, kafka: KafkaServer, api: ApiProcess, args: argparse.Namespace, workdir: Path
) -> Result:
    """One variant, one round: fresh topics, warm-up, then the measured burst."""
    servers = kafka.bootstrap_servers
    tag = uuid.uuid4().hex[:8]
    source, output = f"bench-{tag}", f"bench-{tag}-out"
    await create_topics(servers, dict.fromkeys((source, output), args.partitions))
    if variant == "passthrough":
        processor = passthrough(kafka, source, output, workdir / f"passthrough-{tag}.log")
    else:
        processor = local_trigger(api, source, output, variant.removeprefix("local-"))
    reader = OutputReader(servers, output)
    reading = asyncio.create_task(reader.run(), name=f"bench-read-{output}")
    bound = max(300.0, args.records / 20)
    try:
        async with processor as pids:
            components = {"broker": [kafka.process.pid], **pids, "bench": [os.getpid()]}
            warmup = [f"w{n:06d}" for n in range(WARMUP_RECORDS)]
            await produce_burst(servers, source, warmup)
            await reader.wait_for(set(warmup), label=f"{variant} warm-up", bound=bound)
            measured = [f"m{n:06d}" for n in range(args.records)]
            pace = f" at {args.rate:g}/s" if args.rate > 0 else " at once"
            _say(f"  {variant}: producing {args.records:,} records{pace}")
            cpu_before = cpu_of(components)
            first_sent = await produce_burst(servers, source, measured, rate=args.rate)
            await reader.wait_for(set(measured), label=variant, bound=bound)
            cpu_after = cpu_of(components)
    finally:
        reading.cancel()
        await asyncio.gather(reading, return_exceptions=True)
    latencies = sorted((reader.arrived[i] - reader.sent[i]) / 1e6 for i in measured)
    seconds = (max(reader.arrived[i] for i in measured) - first_sent) / 1e9
    return Result(
        variant=variant,
        records=args.records,
        events_per_second=args.records / seconds,
        p50_ms=_percentile(latencies, 0.50),
        p99_ms=_percentile(latencies, 0.99),
        duplicates=reader.duplicates,
        seconds=seconds,
        cpu={name: cpu_after[name] - cpu_before[name] for name in components},
    )


def _percentile(ordered: list[float], fraction: float) -> float:
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


async def run_rounds(kafka: KafkaServer, args: argparse.Namespace, workdir: Path) -> list[Result]:
    """Every variant in every round (the order rotating); the API process for the whole run."""
    api = ApiProcess(workdir / "api", kafka=kafka)
    results: list[Result] = []
    try:
        _say("Starting the API process (local trigger backend)…")
        await api.start()
        for round_number in range(args.rounds):
            shift = round_number % len(args.variants)
            for variant in args.variants[shift:] + args.variants[:shift]:
                _say(f"Round {round_number + 1}/{args.rounds}: {variant} (load {_load()})")
                result = await measure(variant, kafka=kafka, api=api, args=args, workdir=workdir)
                _say(
                    f"  {variant}: {result.events_per_second:,.0f} events/s, "
                    f"p50 {result.p50_ms:,.0f} ms, p99 {result.p99_ms:,.0f} ms"
                )
                results.append(result)
    finally:
        problems = await api.close()
        for problem in problems:
            _say(f"warning: {problem}")
    return results


def report(results: list[Result], args: argparse.Namespace, load_before: str) -> None:
    """One line per variant (its median round), ratios to the passthrough."""
    medians: dict[str, Result] = {}
    rounds: dict[str, list[float]] = {}
    for variant in args.variants:
        mine = sorted(
            (r for r in results if r.variant == variant), key=lambda r: r.events_per_second
        )
        medians[variant] = mine[(len(mine) - 1) // 2]
        rounds[variant] = [r.events_per_second for r in results if r.variant == variant]
    ceiling = medians.get("passthrough")
    pace = f"produced at {args.rate:g}/s" if args.rate > 0 else "produced in one burst"
    print(
        f"{args.records:,} records {pace}, {args.partitions} partitions, {args.rounds} round(s), "
        f"{os.cpu_count()} CPUs; load average {load_before} before, {_load()} after"
    )
    print(
        f"{'variant':<16} {'events/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'vs passthrough':>15} {'dups':>5}  rounds (events/s)"
    )
    for variant, result in medians.items():
        ratio = (
            f"{result.events_per_second / ceiling.events_per_second:.2f}"
            if ceiling is not None
            else "-"
        )
        print(
            f"{variant:<16} {result.events_per_second:>9,.0f} {result.p50_ms:>8,.0f} "
            f"{result.p99_ms:>8,.0f} {ratio:>15} {result.duplicates:>5}  "
            + " ".join(f"{value:,.0f}" for value in rounds[variant])
        )
    print()
    print("CPU ms per 1,000 events while measured (median round), and the share of all CPUs used:")
    for variant, result in medians.items():
        per_thousand = {
            name: seconds * 1e6 / result.records for name, seconds in result.cpu.items()
        }
        busy = sum(result.cpu.values()) / (result.seconds * (os.cpu_count() or 1))
        print(
            f"{variant:<16} "
            + "  ".join(f"{name} {value:,.0f}" for name, value in per_thousand.items())
            + f"  (total {sum(per_thousand.values()):,.0f}; {busy:.0%})"
        )


def parse_arguments() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000, help="measured records per run")
    parser.add_argument("--partitions", type=int, default=4, help="of each topic")
    parser.add_argument("--rounds", type=int, default=3, help="turns each variant takes")
    parser.add_argument(
        "--rate",
        type=float,
        default=0,
        help="records/s to produce at (0: one burst); below capacity the latency is per event",
    )
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--keep-workdir", action="store_true", help="keep logs and data")
    return parser.parse_args()


def main() -> None:
    """Start Kafka, run the rounds, print the table, stop everything."""
    args = parse_arguments()
    load_before = _load()
    workdir = Path(tempfile.mkdtemp(prefix="pipeline-events-bench-e2e-"))
    _say(f"Work folder {workdir}; load average {load_before}")
    (workdir / "kafka").mkdir()
    kafka = start_kafka(workdir=workdir / "kafka", progress=_say)
    try:
        _say(f"Kafka is ready at {kafka.bootstrap_servers}")
        results = asyncio.run(run_rounds(kafka, args, workdir))
    finally:
        kafka.stop()
        if args.keep_workdir:
            _say(f"Kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report(results, args, load_before)


if __name__ == "__main__":
    main()
