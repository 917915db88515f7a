"""`/api/v1/pipelines`: create, list, read, version and delete pipelines.

Thin on purpose: authenticate, parse, call :class:`events_api.pipelines.PipelineService`, shape
the answer. Errors propagate to :mod:`events_api.error_handlers`.
"""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from events_api.auth.scopes import Scope
from events_api.context import authorize
from events_api.errors import NotFound
from events_api.pipelines import view_of
from events_api.request_parsing import etag_for, expected_version, query_bool, query_int, read_json
from events_api.responses import json_response
from events_api.store.records import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from pipeline_models import ErrorCode, Pipeline, PipelineId, is_pipeline_id, parse_version_selector

_BASE = "/api/v1/pipelines"


def pipeline_id_of(request: Request) -> PipelineId:
    """The path's pipeline id; a string that cannot be one is a 404 like an unknown id."""
    raw: str = request.path_params["pipeline_id"]
    if not is_pipeline_id(raw):
        raise NotFound(f"no pipeline {raw!r}", code=ErrorCode.PIPELINE_NOT_FOUND)
    return PipelineId(raw)


def _page_args(request: Request) -> tuple[str | None, int]:
    limit = query_int(request, "limit", default=DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE)
    return request.query_params.get("cursor") or None, limit


def _pipeline_answer(view: Pipeline, *, status_code: int = 200) -> Response:
    response = json_response(view, status_code=status_code)
    response.headers["ETag"] = etag_for(view.version)
    return response


async def create_pipeline(request: Request) -> Response:
    """POST: validate and store a new pipeline (version 1)."""
    context, principal = await authorize(request, Scope.PIPELINES_WRITE)
    document = await read_json(request, max_bytes=context.settings.max_body_bytes)
    record = await context.pipelines.create(principal.tenant, document)
    response = _pipeline_answer(record.view(), status_code=201)
    response.headers["Location"] = str(request.url_for("get_pipeline", pipeline_id=record.id))
    return response


async def list_pipelines(request: Request) -> Response:
    """GET: one page of the caller's pipelines, optionally filtered by exact name."""
    context, principal = await authorize(request, Scope.PIPELINES_READ)
    cursor, limit = _page_args(request)
    page = await context.pipelines.list(
        principal.tenant, name=request.query_params.get("name"), cursor=cursor, limit=limit
    )
    items = [record.view() for record in page.items]
    return json_response({"items": items, "next_cursor": page.next_cursor})


async def get_pipeline(request: Request) -> Response:
    """GET: the pipeline at its latest version, with its ETag."""
    context, principal = await authorize(request, Scope.PIPELINES_READ)
    record = await context.pipelines.get(principal.tenant, pipeline_id_of(request))
    return _pipeline_answer(record.view())


async def update_pipeline(request: Request) -> Response:
    """PUT: store a new immutable version; `If-Match` guards against lost updates."""
    context, principal = await authorize(request, Scope.PIPELINES_WRITE)
    pipeline_id = pipeline_id_of(request)
    expected = expected_version(request)
    document = await read_json(request, max_bytes=context.settings.max_body_bytes)
    record = await context.pipelines.update(
        principal.tenant, pipeline_id, document, expected_version=expected
    )
    return _pipeline_answer(record.view())


async def delete_pipeline(request: Request) -> Response:
    """DELETE: remove the pipeline; refused while its trigger runs unless `?force=true`."""
    context, principal = await authorize(request, Scope.PIPELINES_WRITE)
    pipeline_id = pipeline_id_of(request)
    force = query_bool(request, "force")
    await context.pipelines.delete(principal.tenant, pipeline_id, force=force)
    return json_response({"message": "Pipeline deleted successfully"})


async def list_versions(request: Request) -> Response:
    """GET: one page of the pipeline's versions, oldest first."""
    context, principal = await authorize(request, Scope.PIPELINES_READ)
    cursor, limit = _page_args(request)
    record, page = await context.pipelines.versions(
        principal.tenant, pipeline_id_of(request), cursor=cursor, limit=limit
    )
    items = [view_of(record, version) for version in page.items]
    return json_response({"items": items, "next_cursor": page.next_cursor})


async def get_version(request: Request) -> Response:
    """GET: the pipeline as it was at one version (`latest` is accepted too)."""
    context, principal = await authorize(request, Scope.PIPELINES_READ)
    pipeline_id = pipeline_id_of(request)
    selector = parse_version_selector(request.path_params["version"])
    if selector == "latest":
        record = await context.pipelines.get(principal.tenant, pipeline_id)
        return _pipeline_answer(record.view())
    view = await context.pipelines.version(principal.tenant, pipeline_id, selector)
    return _pipeline_answer(view)


ROUTES = [
    # Both spellings: the product's documentation writes the collection with a trailing slash.
    Route(_BASE, create_pipeline, methods=["POST"], name="create_pipeline"),
    Route(_BASE + "/", create_pipeline, methods=["POST"], name="create_pipeline_slash"),
    Route(_BASE, list_pipelines, methods=["GET"], name="list_pipelines"),
    Route(_BASE + "/", list_pipelines, methods=["GET"], name="list_pipelines_slash"),
    Route(_BASE + "/{pipeline_id}", get_pipeline, methods=["GET"], name="get_pipeline"),
    Route(_BASE + "/{pipeline_id}", update_pipeline, methods=["PUT"], name="update_pipeline"),
    Route(_BASE + "/{pipeline_id}", delete_pipeline, methods=["DELETE"], name="delete_pipeline"),
    Route(_BASE + "/{pipeline_id}/versions", list_versions, methods=["GET"], name="list_versions"),
    Route(
        _BASE + "/{pipeline_id}/versions/{version}",
        get_version,
        methods=["GET"],
        name="get_version",
    ),
]
