"""The ceiling of broker + client: a plain aiokafka consume → produce loop, as its own process.

    python benchmarks/e2e/passthrough.py --bootstrap-servers HOST:PORT --source S --output O

It reads `--source` in a consumer group (from the earliest offset), writes every record's key and
value unchanged to `--output` with the producer settings the runner's kafka step uses
(`acks=all`), and commits each batch once it is acknowledged — no HTTP, no CloudEvent, no
pipeline. Batches are sent at once (the producer pipelines them), which is what makes it a
ceiling rather than a model of per-record delivery. Prints `ready` once it holds its partitions;
stops on SIGTERM.
"""

import argparse
import asyncio
import signal

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


async def forward(args: argparse.Namespace) -> None:
    """Forward records until SIGTERM."""
    stopping = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    consumer = AIOKafkaConsumer(
        args.source,
        bootstrap_servers=args.bootstrap_servers,
        group_id=f"passthrough-{args.source}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=args.bootstrap_servers, acks="all")
    await consumer.start()
    await producer.start()
    try:
        announced = False
        while not stopping.is_set():
            batches = await consumer.getmany(timeout_ms=100)
            if not announced and consumer.assignment():
                print("ready", flush=True)
                announced = True
            sent = [
                await producer.send(args.output, record.value, key=record.key)
                for records in batches.values()
                for record in records
            ]
            for future in sent:
                await future
            if sent:
                await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()


def main() -> None:
    """Parse the command line and forward."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--output", required=True)
    asyncio.run(forward(parser.parse_args()))


if __name__ == "__main__":
    main()
