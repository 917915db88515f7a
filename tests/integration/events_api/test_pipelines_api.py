"""The Pipelines API end to end through the application: a real store, real tokens."""

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from pipeline_models import PipelineId, TenantId, TriggerIntent, TriggerState
from support.api import Api

BASE = "/api/v1/pipelines"


def spec(name: str = "orders", *, topic: str | None = "orders") -> dict[str, Any]:
    options: dict[str, Any] = {"event": topic} if topic else {}
    return {
        "name": name,
        "options": options,
        "steps": [
            {"type": "transform", "id": "shape", "output": {"total": "${{ event.data.total }}"}},
            {"type": "log", "id": "say", "message": "total ${{ steps.shape.total }}"},
        ],
    }


async def create(api: Api, body: dict[str, Any] | None = None, caller: str = "alice") -> Any:
    response = await api.client.post(BASE + "/", json=body or spec(), headers=api.auth(caller))
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("path", [BASE, BASE + "/"])
async def test_create_answers_the_pipeline_with_its_id(api: Api, path: str) -> None:
    response = await api.client.post(path, json=spec(), headers=api.auth("alice"))
    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("pipeline-")
    assert (body["name"], body["options"]["event"], body["version"]) == ("orders", "orders", 1)
    assert [step["id"] for step in body["steps"]] == ["shape", "say"]
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"http://api{BASE}/{body['id']}"
    fetched = await api.client.get(f"{BASE}/{body['id']}", headers=api.auth("alice"))
    assert fetched.status_code == 200
    assert fetched.json() == body


async def test_a_pipeline_without_an_event_option_is_valid(api: Api) -> None:
    body = await create(api, spec(topic=None))
    assert body["options"].get("event") is None


async def test_every_problem_is_reported_with_its_path(api: Api) -> None:
    bad = {
        "name": "",
        "options": {"event": "bad topic!"},
        "steps": [
            {"type": "transform", "id": "a", "output": 1, "surprise": True},
            {"type": "teleport", "id": "b"},
            {"type": "log", "id": "c", "message": "x", "needs": ["nowhere"]},
        ],
    }
    response = await api.client.post(BASE, json=bad, headers=api.auth("alice"))
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_failed"
    paths = {problem["path"] for problem in body["problems"]}
    assert {"$.name", "$.steps[0].surprise", "$.steps[1].type", "$.steps[2].needs[0]"} <= paths


@pytest.mark.parametrize(
    ("content", "headers", "status", "code"),
    [
        (b"{not json", {"Content-Type": "application/json"}, 400, "malformed_body"),
        (
            b"name=x",
            {"Content-Type": "application/x-www-form-urlencoded"},
            415,
            "unsupported_media_type",
        ),
        (
            b"[" + b"1," * 40_000 + b"1]",
            {"Content-Type": "application/json"},
            413,
            "payload_too_large",
        ),
        (b"[1, 2]", {"Content-Type": "application/json"}, 422, "validation_failed"),
    ],
)
async def test_bad_bodies_get_precise_errors(
    api: Api, content: bytes, headers: dict[str, str], status: int, code: str
) -> None:
    response = await api.client.post(BASE, content=content, headers=headers | api.auth("alice"))
    assert response.status_code == status
    assert response.json()["error"] == code


async def test_calls_without_a_valid_token_are_401_with_a_challenge(api: Api) -> None:
    missing = await api.client.get(BASE)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    garbled = await api.client.get(BASE, headers={"Authorization": "Bearer nope"})
    assert garbled.status_code == 401
    assert garbled.json()["error"] == "unauthorized"


async def test_a_missing_scope_is_403(api: Api) -> None:
    response = await api.client.post(BASE, json=spec(), headers=api.auth("reader"))
    assert response.status_code == 403
    assert "pipelines:write" in response.json()["message"]
    assert (await api.client.get(BASE, headers=api.auth("reader"))).status_code == 200


async def test_another_tenants_pipeline_does_not_exist_for_you(api: Api) -> None:
    pipeline = await create(api)
    url = f"{BASE}/{pipeline['id']}"
    for method in ("GET", "DELETE"):
        response = await api.client.request(method, url, headers=api.auth("bob"))
        assert response.status_code == 404
        assert response.json()["error"] == "pipeline_not_found"
    put = await api.client.put(url, json=spec(), headers=api.auth("bob"))
    assert put.status_code == 404
    versions = await api.client.get(url + "/versions", headers=api.auth("bob"))
    assert versions.status_code == 404
    listing = await api.client.get(BASE, headers=api.auth("bob"))
    assert listing.json()["items"] == []


async def test_put_creates_immutable_versions_guarded_by_etags(api: Api) -> None:
    pipeline = await create(api)
    url = f"{BASE}/{pipeline['id']}"
    renamed = spec("orders-v2")
    updated = await api.client.put(
        url, json=renamed, headers=api.auth("alice") | {"If-Match": '"1"'}
    )
    assert updated.status_code == 200
    assert (updated.json()["version"], updated.headers["etag"]) == (2, '"2"')
    stale = await api.client.put(
        url, json=spec("v3"), headers=api.auth("alice") | {"If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.json()["error"] == "precondition_failed"

    first = await api.client.get(url + "/versions/1", headers=api.auth("alice"))
    assert (first.json()["name"], first.json()["version"], first.json()["latest_version"]) == (
        "orders",
        1,
        2,
    )
    latest = await api.client.get(url + "/versions/latest", headers=api.auth("alice"))
    assert latest.json()["name"] == "orders-v2"
    versions = await api.client.get(url + "/versions", headers=api.auth("alice"))
    assert [item["version"] for item in versions.json()["items"]] == [1, 2]


async def test_concurrent_puts_with_one_etag_let_exactly_one_win(api: Api) -> None:
    pipeline = await create(api)
    url = f"{BASE}/{pipeline['id']}"
    headers = api.auth("alice") | {"If-Match": '"1"'}
    answers = await asyncio.gather(
        *(api.client.put(url, json=spec(f"racer-{n}"), headers=headers) for n in range(8))
    )
    assert sorted(answer.status_code for answer in answers) == [200] + [412] * 7


@pytest.mark.parametrize(
    ("version", "status", "code"),
    [
        ("0", 400, "invalid_version"),
        ("v1", 400, "invalid_version"),
        ("9", 404, "version_not_found"),
    ],
)
async def test_unknown_or_malformed_versions(
    api: Api, version: str, status: int, code: str
) -> None:
    pipeline = await create(api)
    response = await api.client.get(
        f"{BASE}/{pipeline['id']}/versions/{version}", headers=api.auth("alice")
    )
    assert response.status_code == status
    assert response.json()["error"] == code


async def test_listing_pages_with_a_cursor_and_filters_by_name(api: Api) -> None:
    created = [await create(api, spec(f"p{n % 2}")) for n in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = (await api.client.get(BASE, params=params, headers=api.auth("alice"))).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [pipeline["id"] for pipeline in created]
    named = await api.client.get(BASE, params={"name": "p1"}, headers=api.auth("alice"))
    assert [item["id"] for item in named.json()["items"]] == [created[1]["id"], created[3]["id"]]
    bad = await api.client.get(BASE, params={"limit": "0"}, headers=api.auth("alice"))
    assert (bad.status_code, bad.json()["error"]) == (400, "invalid_parameter")


async def test_delete_refuses_a_running_pipeline_unless_forced(api: Api) -> None:
    pipeline = await create(api)
    url = f"{BASE}/{pipeline['id']}"
    await api.context.store.set_trigger_intent(
        TenantId("tenant-a"),
        pipeline_id=PipelineId(pipeline["id"]),
        intent=TriggerIntent(state=TriggerState.STARTED, version=1, at=datetime.now(UTC)),
    )
    refused = await api.client.delete(url, headers=api.auth("alice"))
    assert (refused.status_code, refused.json()["error"]) == (409, "conflict")
    forced = await api.client.delete(url, params={"force": "true"}, headers=api.auth("alice"))
    assert forced.status_code == 200
    assert forced.json() == {"message": "Pipeline deleted successfully"}
    assert (await api.client.get(url, headers=api.auth("alice"))).status_code == 404


async def test_requests_carry_an_id_and_are_counted(api: Api) -> None:
    response = await api.client.get(BASE, headers=api.auth("alice") | {"X-Request-Id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    generated = await api.client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32
    metrics = (await api.client.get("/metrics")).text
    assert (
        'pipeline_events_api_requests_total{method="GET",route="list_pipelines",status="200"} 1.0'
        in metrics
    )


async def test_the_openapi_document_covers_every_route(api: Api) -> None:
    document = (await api.client.get("/openapi.json")).json()
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    for route in api.app.routes:
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD":
                assert (route.path, method.lower()) in documented, (route.path, method)  # type: ignore[attr-defined]
