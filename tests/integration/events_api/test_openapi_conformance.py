"""The served `/openapi.json` against the application itself, with schemathesis.

Every operation of the document is called with generated requests, valid and invalid ones
(schemathesis' positive and negative modes), and every answer must be documented: no 5xx, no
status the operation does not list, the documented content type, and a body that matches the
documented schema. A caller with every scope makes the calls; a second, smaller pass makes them
without a token, and every `/api/v1` answer must be the documented 401.

The application runs in process over SQLite with static tokens and no trigger backend, so the
events endpoints answer their documented 503 (that 503 is what they are held to). A few
pipelines are created first and some generated calls aim at them, so the success answers of
reading, updating, versioning and deleting are checked against their schemas too.

schemathesis reaches the app over ASGI from its own event-loop thread and runs the app's
lifespan there (`from_asgi` starts it, the fixture ends it). Its pytest integration
(`from_fixture` + `parametrize`) is not used: with our pytest it fails on a node attribute pytest
no longer has, so each operation is a parametrized test of our own over `as_strategy`.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import CheckFunction
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from events_api.openapi import build_openapi
from support.api import Api, pipelines_app

AnyCase = schemathesis.Case[Any]
AnyOperation = schemathesis.APIOperation[Any, Any, Any, Any]
# `status_code_conformance` is schemathesis' "no undocumented status".
DOCUMENTED: list[CheckFunction] = [
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
CHECKS: list[CheckFunction] = [schemathesis.checks.not_a_server_error, *DOCUMENTED]
# Every operation as (METHOD, path), from the same builder that serves the document.
OPERATIONS = [
    (method.upper(), path) for path, item in build_openapi()["paths"].items() for method in item
]
EVENTS_PREFIX = "/api/v1/events/"
SEEDED_PIPELINES = 3


def _bounded(max_examples: int) -> hypothesis.settings:
    # Bounded and reproducible (the same cases on every run), and no example database files.
    return hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )


@dataclass(frozen=True)
class Served:
    """The document the running app serves, and the headers its calls carry."""

    schema: schemathesis.BaseSchema
    headers: dict[str, str]

    def call(self, case: AnyCase, checks: list[CheckFunction]) -> schemathesis.Response:
        """Send `case` with our headers and run `checks` on the answer."""
        return case.call_and_validate(headers=self.headers, checks=checks)


def _spec(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "options": {"event": "orders"},
        "steps": [{"type": "log", "id": "say", "message": "hello"}],
    }


def _serve(tmp_path: Path, *, authenticated: bool) -> Iterator[Served]:
    app, tokens = pipelines_app(tmp_path)
    # Authenticated, only our token is sent: generated Authorization headers would make the
    # pass mostly about 401s, which the anonymous pass is about. No analysis cache files.
    config = schemathesis.Config.from_dict(
        {"cache": {"enabled": False}, "generation": {"with-security-parameters": not authenticated}}
    )
    headers = {"Authorization": f"Bearer {tokens['alice']}"} if authenticated else {}
    try:
        yield Served(schemathesis.openapi.from_asgi("/openapi.json", app, config=config), headers)
    finally:
        # Closes the store; schemathesis' pytest plugin would do it too, after this fixture.
        asgi.shutdown_lifespans()


@pytest.fixture
def authenticated(tmp_path: Path) -> Iterator[Served]:
    """The served document; calls carry alice's token (every scope)."""
    yield from _serve(tmp_path, authenticated=True)


@pytest.fixture
def anonymous(tmp_path: Path) -> Iterator[Served]:
    """The served document; calls carry no valid token."""
    yield from _serve(tmp_path, authenticated=False)


def _seed_pipelines(served: Served) -> list[str]:
    create = served.schema["/api/v1/pipelines"]["POST"]
    ids = []
    for number in range(SEEDED_PIPELINES):
        case = create.Case(body=_spec(f"seeded-{number}"), media_type="application/json")
        response = served.call(case, CHECKS)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def _cases(operation: AnyOperation, *, seeded: list[str]) -> st.SearchStrategy[AnyCase]:
    strategies = [
        operation.as_strategy(schemathesis.GenerationMode.POSITIVE),
        operation.as_strategy(schemathesis.GenerationMode.NEGATIVE),
    ]
    if seeded and "{pipeline_id}" in operation.path:
        strategies += [
            operation.as_strategy(
                schemathesis.GenerationMode.POSITIVE, path_parameters={"pipeline_id": pipeline_id}
            )
            for pipeline_id in seeded
        ]
    return st.one_of(strategies)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_answer_is_documented(authenticated: Served, method: str, path: str) -> None:
    operation = authenticated.schema[path][method]
    seeded = _seed_pipelines(authenticated) if path.startswith("/api/v1/pipelines") else []
    statuses: set[int] = set()

    @_bounded(max_examples=30)
    @hypothesis.given(case=_cases(operation, seeded=seeded))
    def call(case: AnyCase) -> None:
        if path.startswith(EVENTS_PREFIX):
            # Without a trigger backend: the documented 503 (or a documented 4xx first).
            response = authenticated.call(case, DOCUMENTED)
            assert response.status_code in {*range(400, 500), 503}, response.text
        else:
            response = authenticated.call(case, CHECKS)
            assert response.status_code != 401, response.text
        statuses.add(response.status_code)

    call()
    if not path.startswith(EVENTS_PREFIX):
        # The success answer was among them, so its schema was checked.
        assert any(200 <= status < 300 for status in statuses), sorted(statuses)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_without_a_token_every_call_is_a_documented_401(
    anonymous: Served, method: str, path: str
) -> None:
    operation = anonymous.schema[path][method]

    @_bounded(max_examples=10)
    @hypothesis.given(case=_cases(operation, seeded=[]))
    def call(case: AnyCase) -> None:
        response = anonymous.call(case, CHECKS)
        if path.startswith("/api/v1/"):
            assert response.status_code == 401, response.text
            # schemathesis' headers: lower-case names, a list of values each.
            assert response.headers["www-authenticate"][0].startswith("Bearer")

    call()


async def test_a_405_allows_every_method_the_document_lists(api: Api) -> None:
    # Found by schemathesis' allow_header_conformance: Starlette's 405 named only the methods
    # of the first route matching the path, and ours are one route per method.
    for path, item in build_openapi()["paths"].items():
        concrete = path.replace("{pipeline_id}", "pipeline-abc").replace("{version}", "1")
        response = await api.client.request("PATCH", concrete, headers=api.auth("alice"))
        documented = {method.upper() for method in item} | ({"HEAD"} if "get" in item else set())
        assert response.status_code == 405, path
        assert set(response.headers["Allow"].split(", ")) == documented, path
