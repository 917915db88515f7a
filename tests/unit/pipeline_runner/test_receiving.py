"""Reading an event's body from ASGI messages: whole, bounded, and a sender that goes away."""

from typing import Any

import pytest

from pipeline_runner.errors import ClientDisconnected, EventTooLarge
from pipeline_runner.receiving import content_length, read_body


def receiver(*messages: dict[str, Any]) -> Any:
    pending = list(messages)

    async def receive() -> dict[str, Any]:
        return pending.pop(0)

    return receive


async def test_a_body_in_chunks_is_joined() -> None:
    receive = receiver(
        {"type": "http.request", "body": b"ab", "more_body": True},
        {"type": "http.request", "body": b"cd", "more_body": False},
    )

    assert await read_body(receive, [], 10) == b"abcd"


async def test_a_body_over_the_limit_is_refused_while_reading() -> None:
    receive = receiver(
        {"type": "http.request", "body": b"abcdef", "more_body": True},
        {"type": "http.request", "body": b"ghijkl", "more_body": False},
    )

    with pytest.raises(EventTooLarge):
        await read_body(receive, [], 10)


async def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    with pytest.raises(EventTooLarge):
        await read_body(receiver(), [(b"content-length", b"11")], 10)


async def test_a_sender_that_disconnects_mid_body_is_a_retryable_failure() -> None:
    receive = receiver(
        {"type": "http.request", "body": b"ab", "more_body": True}, {"type": "http.disconnect"}
    )

    with pytest.raises(ClientDisconnected) as raised:
        await read_body(receive, [], 10)

    assert raised.value.retryable


@pytest.mark.parametrize(
    ("headers", "expected"),
    [([(b"content-length", b"12")], 12), ([(b"content-length", b"x")], None), ([], None)],
)
def test_the_declared_length_is_read_from_the_headers(
    headers: list[tuple[bytes, bytes]], expected: int | None
) -> None:
    assert content_length(headers) == expected
