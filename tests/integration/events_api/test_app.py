"""The API application's edges: health, readiness across the lifespan, JSON errors everywhere."""

from pathlib import Path

import httpx
import pytest
from starlette.routing import Route

from events_api.app import create_app
from events_api.auth.settings import AuthMode, AuthSettings
from events_api.settings import ApiSettings
from support.api import Api, write_token_file


async def test_healthz_answers_ok(api: Api) -> None:
    response = await api.client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_follows_the_lifespan(tmp_path: Path) -> None:
    write_token_file(tmp_path / "tokens.json")
    app = create_app(
        ApiSettings(sqlite_path=str(tmp_path / "db.sqlite3"), trigger_backend="none"),
        auth_settings=AuthSettings(
            mode=AuthMode.STATIC, static_tokens_file=str(tmp_path / "tokens.json")
        ),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        assert (await client.get("/readyz")).status_code == 503
        async with app.router.lifespan_context(app):
            ready = await client.get("/readyz")
            assert (ready.status_code, ready.json()) == (200, {"ready": True})
        assert (await client.get("/readyz")).status_code == 503


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/no/such/route", 404, "not_found"),
        ("POST", "/healthz", 405, "method_not_allowed"),
        ("PATCH", "/api/v1/pipelines", 405, "method_not_allowed"),
    ],
)
async def test_http_errors_have_a_json_body(
    api: Api, method: str, path: str, status: int, code: str
) -> None:
    response = await api.client.request(method, path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"] == code
    assert response.json()["message"]


async def test_an_unexpected_error_shows_no_stack_trace(api: Api) -> None:
    async def explode(_: object) -> None:
        raise RuntimeError("secret internals")

    api.app.router.routes.append(Route("/explode", explode))
    transport = httpx.ASGITransport(app=api.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        response = await client.get("/explode")
    assert response.status_code == 500
    assert response.json() == {
        "error": "internal_error",
        "message": "internal error; the server log has the details",
    }
    assert "secret" not in response.text


async def test_openapi_follows_the_ingress_prefix(api: Api) -> None:
    transport = httpx.ASGITransport(app=api.app, root_path="/events")
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        document = (await client.get("/events/openapi.json")).json()
    assert document["servers"] == [{"url": "/events"}]
