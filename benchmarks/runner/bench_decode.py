"""In-process decode of one KafkaSource event: µs per decode, SDK v1 vs SDK core vs ours.

Every decoder gets the event of :mod:`kafka_event` the way its HTTP edge would hand it over and
must produce a result as complete as the SDK's: every attribute, the time parsed (SDK core
and ours; SDK v1 keeps it a string), the key and partitionkey, partition and offset, the Kafka
headers, and the data parsed as JSON. Then each reads those fields, so lazy work is counted.

* ``sdk-v1``   ``cloudevents.http.from_http`` (cloudevents 1.x, the project's pin), from the
  headers as a dict;
* ``sdk-core`` ``cloudevents.core.bindings.http.from_http_event`` (cloudevents 2.x), timed in a
  subprocess of the venv ``--sdk-core-python`` names (``run.sh`` builds it);
* ``msgspec``  a floor, not a CloudEvents decoder: ``ce-*`` headers into a dict, the time and the
  body through msgspec, nothing checked;
* ``runner``   :func:`pipeline_runner.decoding.decode_event` from the raw ASGI headers, then the
  same fields the SDK decoders read (the time parsed, which SDK v1 leaves a string);
* ``runner+view`` the same, then the Kafka view the runner's expressions use on top (partition
  and offset as integers, the record key, the topic): shown beside, not held to a target.

The decoders take turns for ``--rounds`` rounds; each one's best round is its result.

    .venv/bin/python benchmarks/runner/bench_decode.py [--sdk-core-python PATH] [--rounds 5]
"""

import argparse
import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import kafka_event
import msgspec
from cloudevents.http import from_http
from decode_timing import microseconds

from pipeline_runner.decoding import decode_event

HERE = Path(__file__).resolve().parent
TARGETS = {"sdk-v1": 7.0, "sdk-core": 3.5}
"""How many times faster than each SDK the runner's decode must be (the runner's issue)."""


def sdk_v1_decoder() -> Callable[[], Any]:
    """cloudevents 1.x classic API: decode, then read what the runner reads."""
    headers = kafka_event.event_headers()

    def decode() -> Any:
        event = from_http(headers, kafka_event.BODY)
        return (
            event["time"],
            event["key"],
            event["partitionkey"],
            event["knativekafkapartition"],
            event["knativekafkaoffset"],
            event["kafkaheaderxrequestid"],
            event.data,
        )

    return decode


def msgspec_decoder() -> Callable[[], Any]:
    """The floor: headers to a dict, time and body through msgspec; nothing validated."""
    raw = kafka_event.raw_headers()
    json = msgspec.json.Decoder()

    def decode() -> Any:
        attributes = {
            name[3:].decode(): value.decode() for name, value in raw if name[:3] == b"ce-"
        }
        return (
            attributes,
            msgspec.convert(attributes["time"], datetime),
            json.decode(kafka_event.BODY),
        )

    return decode


def runner_decoder() -> Callable[[], Any]:
    """The runner: decode from raw ASGI headers, then read what the SDK decoders read."""
    raw = kafka_event.raw_headers()

    def decode() -> Any:
        event = decode_event(raw, kafka_event.BODY)
        extensions = event.extensions
        return (
            event.timestamp,
            extensions["key"],
            extensions["partitionkey"],
            extensions["knativekafkapartition"],
            extensions["knativekafkaoffset"],
            event.kafka_headers["xrequestid"],
            event.data,
        )

    return decode


def runner_view_decoder() -> Callable[[], Any]:
    """The runner, then the Kafka view its expressions use on top: partition and offset as
    integers, the record key, the topic. More than the SDKs give: shown, not a target."""
    raw = kafka_event.raw_headers()

    def decode() -> Any:
        event = decode_event(raw, kafka_event.BODY)
        return (
            event.timestamp,
            event.key,
            event.extensions["partitionkey"],
            event.partition_and_offset,
            event.kafka_headers,
            event.topic,
            event.data,
        )

    return decode


def sdk_core_microseconds(python: str) -> float:
    """Time the SDK core in its own venv (cloudevents 2.x cannot live beside our 1.x pin)."""
    result = subprocess.run(
        [python, str(HERE / "decode_timing.py"), "sdk-core"],
        capture_output=True,
        text=True,
        check=True,
        cwd=HERE,
    )
    return float(result.stdout)


def main() -> None:
    """Time every decoder; print µs per decode and the runner's speed-ups against the targets."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sdk-core-python",
        default="/tmp/pipeline-events-bench-sdk2/bin/python",  # noqa: S108 - run.sh builds it
        help="python of a venv with cloudevents 2.x",
    )
    parser.add_argument("--rounds", type=int, default=5, help="turns each decoder takes")
    arguments = parser.parse_args()
    in_process = {
        "sdk-v1": sdk_v1_decoder(),
        "msgspec": msgspec_decoder(),
        "runner": runner_decoder(),
        "runner+view": runner_view_decoder(),
    }
    rounds: dict[str, list[float]] = {name: [] for name in ["sdk-core", *in_process]}
    # The decoders take turns, so a slow spell of the machine hits one round of each, not all
    # rounds of one; each decoder's best round is its result.
    for _ in range(arguments.rounds):
        rounds["sdk-core"].append(sdk_core_microseconds(arguments.sdk_core_python))
        for name, decoder in in_process.items():
            rounds[name].append(microseconds(decoder, repeat=2))
    timings = {name: min(values) for name, values in rounds.items()}
    for name, value in timings.items():
        print(f"{name:<12} {value:>7.2f} us/decode")
    print()
    for sdk, target in TARGETS.items():
        ratio = timings[sdk] / timings["runner"]
        verdict = "met" if ratio >= target else "MISSED"
        print(f"runner vs {sdk}: {ratio:.1f}x faster  target >= {target}x: {verdict}")
        print(f"  with the Kafka view on top: {timings[sdk] / timings['runner+view']:.1f}x")


if __name__ == "__main__":
    main()
