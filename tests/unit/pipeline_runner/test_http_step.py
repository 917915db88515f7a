"""The http step against a real local server: what it sends, publishes and how it fails."""

import ipaddress
from typing import Any

import msgspec
import pytest

from pipeline_models import HttpStep, StepId
from pipeline_runner.egress import IPAddress, guarded_client
from pipeline_runner.errors import StepInputInvalid, UpstreamRejected, UpstreamUnavailable
from pipeline_runner.steps.http import HttpExecutor
from unit.pipeline_runner.helpers import Upstream

SCOPE = {"event": {"id": "e-1", "data": {"n": 2}}, "steps": {"prev": {"token": "abc"}}}


class LocalResolver:
    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address("127.0.0.1")]


def allow_all(host: str, address: IPAddress) -> str | None:
    return None


async def call(upstream: Upstream, **fields: Any) -> dict[str, Any]:
    step = msgspec.convert(
        {
            "id": "call",
            "url": f"http://upstream.test:{upstream.port}/items/${{{{ event.data.n }}}}",
            **fields,
        },
        HttpStep,
    )
    async with guarded_client(resolver=LocalResolver(), check=allow_all) as client:
        result: dict[str, Any] = await HttpExecutor(step, client=client)(SCOPE)
    return result


async def test_the_request_is_rendered_and_the_answer_published(upstream: Upstream) -> None:
    upstream.body = b'{"id": 9}'

    output = await call(
        upstream,
        method="PUT",
        headers={"Authorization": "Bearer ${{ steps.prev.token }}"},
        body={"n": "${{ event.data.n }}", "label": "n=${{ event.data.n }}"},
    )

    [request] = upstream.requests
    assert (request.method, request.path) == ("PUT", "/items/2")
    assert request.headers["authorization"] == "Bearer abc"
    assert request.body == b'{"n":2,"label":"n=2"}'
    assert output["status"] == 200
    assert output["body"] == {"id": 9}
    assert output["headers"]["content-type"] == "application/json"


async def test_a_text_answer_is_published_as_text(upstream: Upstream) -> None:
    upstream.body, upstream.content_type = b"plain words", "text/plain"

    output = await call(upstream)

    assert output["body"] == "plain words"


async def test_a_redirect_is_not_followed(upstream: Upstream) -> None:
    upstream.status = 302

    with pytest.raises(UpstreamRejected, match="302"):
        await call(upstream)

    assert len(upstream.requests) == 1


async def test_accept_status_and_permanent_on_4xx_are_honoured(upstream: Upstream) -> None:
    upstream.status = 404

    output = await call(upstream, accept_status=[200, 404])
    assert output["status"] == 404

    with pytest.raises(UpstreamUnavailable):
        await call(upstream, permanent_on_4xx=False)


async def test_a_rendered_url_that_is_not_http_fails_permanently(upstream: Upstream) -> None:
    step = HttpStep(id=StepId("call"), url="${{ event.id }}")
    async with guarded_client(resolver=LocalResolver(), check=allow_all) as client:
        with pytest.raises(StepInputInvalid, match="absolute http"):
            await HttpExecutor(step, client=client)(SCOPE)
