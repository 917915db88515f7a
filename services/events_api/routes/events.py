"""`/api/v1/events/{pipeline_id}`: start, read and stop a pipeline's trigger, as documented.

POST answers `200 {"message": "Event started successfully"}`, DELETE `200 {"message": "Event
deleted successfully"}`, GET `{"ready": ...}` plus details — from the watch cache, never from the
cluster. Errors propagate to :mod:`events_api.error_handlers`.
"""

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from events_api.auth.scopes import Scope
from events_api.context import authorize, events_of
from events_api.request_parsing import query_bool, query_int
from events_api.responses import json_response
from events_api.routes.pipelines import pipeline_id_of

_PATH = "/api/v1/events/{pipeline_id}"
MAX_WAIT_SECONDS = 60


async def start_event(request: Request) -> Response:
    """POST: run the pipeline version (`?pipeline_version=`, latest by default) on its topic."""
    context, principal = await authorize(request, Scope.EVENTS_WRITE)
    answer = await events_of(context).start(
        principal.tenant,
        pipeline_id_of(request),
        version=request.query_params.get("pipeline_version"),
        reset=query_bool(request, "reset"),
    )
    return json_response(answer)


async def get_event(request: Request) -> Response:
    """GET: whether the trigger is ready; `?wait=SECONDS` long-polls until it is."""
    context, principal = await authorize(request, Scope.EVENTS_READ)
    wait = query_int(request, "wait", default=0, minimum=0, maximum=MAX_WAIT_SECONDS)
    status = await events_of(context).status(
        principal.tenant, pipeline_id_of(request), wait_seconds=wait
    )
    return json_response(status)


async def delete_event(request: Request) -> Response:
    """DELETE: stop and delete the trigger."""
    context, principal = await authorize(request, Scope.EVENTS_WRITE)
    answer = await events_of(context).stop(principal.tenant, pipeline_id_of(request))
    return json_response(answer)


ROUTES = [
    Route(_PATH, start_event, methods=["POST"], name="start_event"),
    Route(_PATH, get_event, methods=["GET"], name="get_event"),
    Route(_PATH, delete_event, methods=["DELETE"], name="delete_event"),
]
