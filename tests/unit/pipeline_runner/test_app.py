"""The runner answers its health check."""

import httpx

from pipeline_runner.app import create_app


async def test_healthz_answers_ok() -> None:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://runner") as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
