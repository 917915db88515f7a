"""The service the pipelines' `http` steps call: a tiny HTTP/1.1 server in the test process
(`support.tiny_http` speaks the protocol; what it answers is here).

It listens on 127.0.0.1 (local runners may call loopback), reads each POSTed JSON body, records
the `id` in it, and answers `200 {"id", "calls", "by"}` — `calls` being how often that id has
been seen, so the output shows how often a record went through the whole path. Scripted trouble:

* `fail_first[id] = n`: n calls for that id answer 503, after any outage (a flaky dependency);
* `outage_calls = n`: the next n calls, whatever their id, answer 503 (a short outage);
* `hold_after = n`: calls after the n-th wait until `release()` (work in flight, on demand).
"""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import msgspec

from support.tiny_http import Request, serve_connection

_DECODER = msgspec.json.Decoder(dict[str, Any])


@dataclass
class EnrichmentServer:
    """Answers the pipelines' http steps; records what it was asked."""

    port: int = 0
    fail_first: dict[str, int] = field(default_factory=dict)
    outage_calls: int = 0
    hold_after: int | None = None
    calls: Counter[str] = field(default_factory=Counter)
    """Calls per record id (503s included)."""
    requests: int = 0
    unavailable_answers: int = 0
    held: int = 0
    holding: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once a call is being held."""
    _released: asyncio.Event = field(default_factory=asyncio.Event)
    _connections: dict[asyncio.Task[Any], asyncio.StreamWriter] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """Where the http steps POST."""
        return f"http://127.0.0.1:{self.port}/enrich"

    def release(self) -> None:
        """Let every held call (and every later one) through."""
        self._released.set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one keep-alive connection until the client closes it."""
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = writer
        try:
            await serve_connection(reader, writer, self._answer)
        finally:
            del self._connections[task]

    async def close_connections(self) -> None:
        """Drop every open connection and wait for its handler (Python 3.11's server does not)."""
        self.release()
        for writer in self._connections.values():
            writer.transport.abort()
        tasks = list(self._connections)
        if tasks:
            await asyncio.wait(tasks, timeout=10)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _answer(self, request: Request) -> tuple[int, bytes]:
        self.requests += 1
        if self.hold_after is not None and self.requests > self.hold_after:
            self.held += 1
            self.holding.set()
            await self._released.wait()
        record_id = str(_DECODER.decode(request.body).get("id"))
        self.calls[record_id] += 1
        if self.outage_calls > 0:
            self.outage_calls -= 1
            self.unavailable_answers += 1
            return 503, b'{"error": "outage"}'
        if self.fail_first.get(record_id, 0) > 0:
            self.fail_first[record_id] -= 1
            self.unavailable_answers += 1
            return 503, b'{"error": "flaky"}'
        answer = {"id": record_id, "calls": self.calls[record_id], "by": "enrichment"}
        return 200, msgspec.json.encode(answer)


@asynccontextmanager
async def serving() -> AsyncIterator[EnrichmentServer]:
    """An enrichment server listening on a free loopback port until the block ends."""
    enrichment = EnrichmentServer()
    server = await asyncio.start_server(enrichment.handle, "127.0.0.1", 0)
    enrichment.port = server.sockets[0].getsockname()[1]
    async with server:
        try:
            yield enrichment
        finally:
            server.close()
            await enrichment.close_connections()
            await server.wait_closed()
