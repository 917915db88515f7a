"""Just enough HTTP/1.1 for the test servers that stand in for a service (a runner, the service a
pipeline's http step calls): read a request with a `content-length` body, write a JSON answer,
and keep a connection answering until its client closes it.

What a server answers is its own; only the wire format lives here. No chunked bodies, no
pipelining guarantees beyond one request after another on a connection.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """One request as read: the request line's method and target, headers, body."""

    method: str
    path: str
    headers: dict[str, str]
    """Names in lower case."""
    body: bytes


Answer = Callable[[Request], Awaitable[tuple[int, bytes]]]
"""What a server makes of a request: its status and JSON body."""


async def read_request(reader: asyncio.StreamReader) -> Request:
    """The next request on the connection.

    Raises:
        asyncio.IncompleteReadError: the client closed the connection.
    """
    head = await reader.readuntil(b"\r\n\r\n")
    request_line, *lines = head.decode("latin-1").split("\r\n")
    method, path, _ = request_line.split(" ", 2)
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines if line)
    }
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Request(method=method, path=path, headers=headers, body=body)


async def write_response(writer: asyncio.StreamWriter, status: int, body: bytes) -> None:
    """Write a JSON response and wait until it is sent."""
    # Clients look at the status code only: the reason phrase is a placeholder.
    writer.write(
        f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n\r\n".encode()
        + body
    )
    await writer.drain()


async def serve_connection(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, answer: Answer
) -> None:
    """Answer one request after another on a keep-alive connection until the client closes it;
    then close it."""
    try:
        while True:
            request = await read_request(reader)
            status, body = await answer(request)
            await write_response(writer, status, body)
    except (asyncio.IncompleteReadError, ConnectionError):
        # The client closed or dropped the connection: the normal end of one.
        pass
    finally:
        writer.close()
