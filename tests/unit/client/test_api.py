"""The client's requests, seen at httpx's transport (its I/O seam): paths, headers, pages,
long-poll timeouts, and transport failures translated into errors that say what to do."""

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from events_api.client.api import ApiClient, ClientSettings
from events_api.client.config import ClientConfig
from events_api.client.errors import ApiUnreachable

Handler = Callable[[httpx.Request], httpx.Response]
LOCAL = ClientConfig(
    api_url="http://127.0.0.1:8000/prefix",
    api_url_from="--api-url",
    token="s3cret",
    token_from="--token",
)


def _client(handler: Handler, config: ClientConfig = LOCAL, **settings: Any) -> ApiClient:
    return ApiClient(
        config, settings=ClientSettings(**settings), transport=httpx.MockTransport(handler)
    )


async def test_requests_carry_the_token_prefix_and_quoted_ids() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"message": "ok"})

    async with _client(handler) as api:
        await api.start_event("a/b", version="3", reset=True)
        await api.create_pipeline(b'{"name": "x"}')
    start, create = seen
    assert start.method == "POST"
    assert start.url.raw_path == b"/prefix/api/v1/events/a%2Fb?pipeline_version=3&reset=true"
    assert start.headers["authorization"] == "Bearer s3cret"
    assert create.url.path == "/prefix/api/v1/pipelines"
    assert create.headers["content-type"] == "application/json"
    assert create.content == b'{"name": "x"}'


async def test_listing_follows_every_page() -> None:
    pages = {None: (["a", "b"], "c1"), "c1": (["c"], "c2"), "c2": ([], None)}
    limits: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        limits.append(request.url.params["limit"])
        items, cursor = pages[request.url.params.get("cursor")]
        return httpx.Response(200, json={"items": items, "next_cursor": cursor})

    async with _client(handler, page_size=2) as api:
        listed = await api.list_pipelines()
    assert listed == {"items": ["a", "b", "c"], "next_cursor": None}
    assert limits == ["2", "2", "2"]


async def test_a_cursor_that_repeats_ends_the_listing() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": ["x"], "next_cursor": "same"})

    async with _client(handler) as api:
        assert (await api.list_versions("p"))["items"] == ["x", "x"]


async def test_a_long_poll_reads_for_its_wait_plus_a_margin() -> None:
    timeouts: list[dict[str, float]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"])
        assert request.url.params.get("wait") in {None, "20"}
        return httpx.Response(200, json={"ready": False})

    async with _client(handler, read_timeout_seconds=7, long_poll_margin_seconds=5) as api:
        await api.event_status("p", wait_seconds=20)
        await api.event_status("p")
    assert [timeout["read"] for timeout in timeouts] == [25, 7]
    assert timeouts[0]["connect"] == ClientSettings().connect_timeout_seconds


@pytest.mark.parametrize(
    ("failure", "config", "expected"),
    [
        (
            httpx.ConnectError("refused"),
            LOCAL,
            "cannot connect to the API at http://127.0.0.1:8000/prefix (from --api-url): "
            "refused; is `pipeline-events dev`",
        ),
        (
            httpx.ConnectError("refused"),
            ClientConfig(api_url="https://api.example", api_url_from="the default"),
            "check the URL and that the API is reachable from here",
        ),
        (httpx.ReadTimeout("slow"), LOCAL, "did not answer within 60 s"),
        (httpx.RemoteProtocolError("eof"), LOCAL, "failed: eof; retry later"),
    ],
)
async def test_no_answer_becomes_api_unreachable(
    failure: httpx.HTTPError, config: ClientConfig, expected: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure

    async with _client(handler, config) as api:
        with pytest.raises(ApiUnreachable) as caught:
            await api.stop_event("p")
    assert expected in caught.value.message
    assert caught.value.__cause__ is failure
    assert "s3cret" not in caught.value.message


async def test_a_success_that_is_not_a_json_object_is_not_the_api() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>welcome</html>")

    async with _client(handler) as api:
        with pytest.raises(ApiUnreachable, match="is not a JSON object; check the API URL"):
            await api.get_pipeline("p", version="2")


async def test_a_version_is_read_from_its_own_path() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        return httpx.Response(200, content=json.dumps({"id": "p"}).encode())

    async with _client(handler) as api:
        await api.get_pipeline("p")
        await api.get_pipeline("p", version="latest")
    assert paths == ["/prefix/api/v1/pipelines/p", "/prefix/api/v1/pipelines/p/versions/latest"]
