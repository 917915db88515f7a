"""Timing one decoder in-process, and the decoders that need only the standard library.

Shared by :mod:`bench_decode` (the project's venv) and run on its own from the cloudevents 2.x
venv for the SDK core (``python decode_timing.py sdk-core`` prints µs per decode), so it
imports nothing but the standard library and the SDK it times.
"""

import sys
import timeit
from collections.abc import Callable
from typing import Any

import kafka_event


def microseconds(decode: Callable[[], Any], *, number: int = 20_000, repeat: int = 7) -> float:
    """Best of ``repeat`` runs of ``number`` decodes, in µs per decode (after a warm-up)."""
    decode()
    return min(timeit.repeat(decode, number=number, repeat=repeat)) / number * 1e6


def sdk_core_decoder() -> Callable[[], Any]:
    """cloudevents 2.x core binding: decode, then read what the runner reads."""
    # Only the cloudevents 2.x venv has it: imported when asked for.
    from cloudevents.core.bindings.http import HTTPMessage, from_http_event  # noqa: PLC0415

    headers = kafka_event.event_headers()

    def decode() -> Any:
        event = from_http_event(HTTPMessage(headers, kafka_event.BODY))
        return (
            event.get_time(),
            event.get_extension("key"),
            event.get_extension("partitionkey"),
            event.get_extension("knativekafkapartition"),
            event.get_extension("knativekafkaoffset"),
            event.get_extension("kafkaheaderxrequestid"),
            event.get_data(),
        )

    return decode


if __name__ == "__main__":
    if sys.argv[1:] != ["sdk-core"]:
        raise SystemExit("usage: decode_timing.py sdk-core")
    print(f"{microseconds(sdk_core_decoder()):.3f}")
