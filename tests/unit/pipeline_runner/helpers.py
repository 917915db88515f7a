"""Helpers for the runner's tests: a real local HTTP upstream, and runner environments."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec

from pipeline_models import (
    PipelineId,
    PipelineVersion,
    RunnerSettings,
    encode_runner_env,
    validate_pipeline_spec,
)


@dataclass
class Received:
    """One request the upstream received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Upstream:
    """A minimal HTTP/1.1 server on 127.0.0.1: records requests, answers what it is told."""

    port: int = 0
    requests: list[Received] = field(default_factory=list)
    status: int = 200
    body: bytes = b'{"ok": true}'
    content_type: str = "application/json"
    gate: asyncio.Event | None = None
    """When set, every request waits for it before answering."""
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when a request has been read."""
    handlers: set["asyncio.Task[Any]"] = field(default_factory=set)
    """Connection handlers still running."""

    async def settle(self) -> None:
        """Open the gate and wait until every connection handler has finished."""
        if self.gate is not None:
            self.gate.set()
        while self.handlers:
            await asyncio.gather(*self.handlers)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *lines = head.decode("latin-1").split("\r\n")
            headers = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(":") for line in lines if line)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            method, path, _ = request_line.split(" ", 2)
            self.requests.append(Received(method, path, headers, body))
            self.arrived.set()
            if self.gate is not None:
                await self.gate.wait()
            reason = "OK" if self.status < 400 else "Error"
            writer.write(
                f"HTTP/1.1 {self.status} {reason}\r\ncontent-type: {self.content_type}\r\n"
                f"content-length: {len(self.body)}\r\nconnection: close\r\n\r\n".encode()
                + self.body
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            self.handlers.discard(task)


EnvFactory = Callable[..., dict[str, str]]


def runner_env(
    steps: list[dict[str, Any]],
    *,
    options: dict[str, Any] | None = None,
    **settings: Any,
) -> dict[str, str]:
    """The environment the events API would give a runner of these steps and settings."""
    spec = validate_pipeline_spec({"name": "test", "options": options or {}, "steps": steps})
    version = PipelineVersion(
        pipeline_id=PipelineId("pipeline-abc123def456"),
        version=2,
        spec=spec,
        created_at=datetime(2026, 5, 1, tzinfo=UTC),
    )
    return encode_runner_env(pipeline=version, settings=msgspec.convert(settings, RunnerSettings))
