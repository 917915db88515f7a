"""The API application: health, readiness across the lifespan, and JSON errors everywhere."""

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from events_api.app import create_app
from events_api.settings import ApiSettings


def _client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")


async def test_healthz_answers_ok() -> None:
    async with _client(create_app(ApiSettings())) as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_follows_the_lifespan() -> None:
    app = create_app(ApiSettings())
    async with _client(app) as client:
        assert (await client.get("/readyz")).status_code == 503
        async with app.router.lifespan_context(app):
            ready = await client.get("/readyz")
            assert ready.status_code == 200
            assert ready.json() == {"ready": True}
        assert (await client.get("/readyz")).status_code == 503


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/no/such/route", 404, "not_found"),
        ("POST", "/healthz", 405, "method_not_allowed"),
    ],
)
async def test_http_errors_have_a_json_body(method: str, path: str, status: int, code: str) -> None:
    async with _client(create_app(ApiSettings())) as client:
        response = await client.request(method, path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"] == code
    assert response.json()["message"]


async def test_an_unexpected_error_shows_no_stack_trace() -> None:
    async def explode(_: object) -> None:
        raise RuntimeError("secret internals")

    app = create_app(ApiSettings())
    app.router.routes.append(Route("/explode", explode))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        response = await client.get("/explode")
    assert response.status_code == 500
    assert response.json() == {
        "error": "internal_error",
        "message": "internal error; see the server log",
    }
    assert "secret" not in response.text
