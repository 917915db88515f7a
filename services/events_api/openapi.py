"""The API's OpenAPI 3.1 document, served at `/openapi.json`.

Schemas come from the same msgspec Structs the API encodes and decodes, so the document cannot
drift from the wire format; every operation lists every status it can answer, each error with
the one error body shape.
"""

from dataclasses import dataclass, field
from typing import Any

import msgspec

from events_api.events import StartAnswer, StopAnswer
from pipeline_models import ErrorBody, Pipeline, PipelineSpec, TriggerStatus

_ERROR_STATUSES = {
    400: "Malformed request: body, parameter or version selector (`error` says which).",
    401: "No valid bearer token (`WWW-Authenticate: Bearer`).",
    403: "The token lacks the scope this call needs.",
    404: "No such resource for this caller.",
    409: "The request conflicts with the resource's state.",
    412: "`If-Match` names a version that is no longer the latest.",
    413: "The body is larger than the configured limit.",
    415: "The body is not JSON.",
    422: "The pipeline is invalid; `problems` lists every problem with its JSON path.",
    500: "An unexpected error (the server log has details) — or, for starting a trigger, the "
    "documented `pipeline_has_no_event_option`.",
    503: "A dependency is unavailable; retry after `Retry-After` seconds.",
}
_AUTH = (401, 403, 503)
_COMPONENT_PREFIX = "#/components/schemas/"


@dataclass(frozen=True)
class Operation:
    """One documented operation."""

    path: str
    method: str
    operation_id: str
    summary: str
    ok: int = 200
    ok_schema: str | None = "Pipeline"
    request_schema: str | None = None
    errors: tuple[int, ...] = ()
    scope: str | None = None
    parameters: tuple[dict[str, Any], ...] = field(default=())


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _path(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


_PIPELINE_ID = _path(
    "pipeline_id", "The pipeline's id.", {"type": "string", "pattern": "^pipeline-[a-z0-9]+$"}
)
_PAGE = (
    _query("limit", "Page size.", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}),
    _query("cursor", "`next_cursor` of the previous page.", {"type": "string"}),
)
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The ETag of the version you read; the update fails with 412 if it is stale.",
    "schema": {"type": "string"},
}

PIPELINES = "/api/v1/pipelines"
OPERATIONS: tuple[Operation, ...] = (
    *(
        Operation(
            path,
            "post",
            f"create_pipeline{suffix}",
            "Create a pipeline (version 1).",
            ok=201,
            request_schema="PipelineSpec",
            errors=(400, 413, 415, 422, *_AUTH),
            scope="pipelines:write",
        )
        for path, suffix in ((PIPELINES, ""), (PIPELINES + "/", "_slash"))
    ),
    *(
        Operation(
            path,
            "get",
            f"list_pipelines{suffix}",
            "List your pipelines, oldest first.",
            ok_schema="PipelinePage",
            errors=(400, *_AUTH),
            scope="pipelines:read",
            parameters=(
                _query("name", "Only pipelines with exactly this name.", {"type": "string"}),
                *_PAGE,
            ),
        )
        for path, suffix in ((PIPELINES, ""), (PIPELINES + "/", "_slash"))
    ),
    Operation(
        PIPELINES + "/{pipeline_id}",
        "get",
        "get_pipeline",
        "The pipeline at its latest version.",
        errors=(404, *_AUTH),
        scope="pipelines:read",
        parameters=(_PIPELINE_ID,),
    ),
    Operation(
        PIPELINES + "/{pipeline_id}",
        "put",
        "update_pipeline",
        "Store a new immutable version of the pipeline.",
        request_schema="PipelineSpec",
        errors=(400, 404, 412, 413, 415, 422, *_AUTH),
        scope="pipelines:write",
        parameters=(_PIPELINE_ID, _IF_MATCH),
    ),
    Operation(
        PIPELINES + "/{pipeline_id}",
        "delete",
        "delete_pipeline",
        "Delete the pipeline and its versions (409 while its trigger runs, unless force).",
        ok_schema="Message",
        errors=(400, 404, 409, *_AUTH),
        scope="pipelines:write",
        parameters=(
            _PIPELINE_ID,
            _query("force", "Delete even while its trigger runs.", {"type": "boolean"}),
        ),
    ),
    Operation(
        PIPELINES + "/{pipeline_id}/versions",
        "get",
        "list_versions",
        "The pipeline's versions, oldest first.",
        ok_schema="PipelinePage",
        errors=(400, 404, *_AUTH),
        scope="pipelines:read",
        parameters=(_PIPELINE_ID, *_PAGE),
    ),
    Operation(
        PIPELINES + "/{pipeline_id}/versions/{version}",
        "get",
        "get_version",
        "The pipeline as it was at one version.",
        errors=(400, 404, *_AUTH),
        scope="pipelines:read",
        parameters=(
            _PIPELINE_ID,
            _path(
                "version",
                "A version number, or `latest`.",
                {"type": "string", "pattern": "^([1-9][0-9]*|latest)$"},
            ),
        ),
    ),
)


EVENTS = "/api/v1/events/{pipeline_id}"
EVENT_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        EVENTS,
        "post",
        "start_event",
        "Run the pipeline version on its topic (replaces a running trigger in place).",
        ok_schema="StartAnswer",
        errors=(400, 404, 422, 500, *_AUTH),
        scope="events:write",
        parameters=(
            _PIPELINE_ID,
            _query(
                "pipeline_version",
                "A version number, or `latest` (the default).",
                {"type": "string"},
            ),
            _query(
                "reset",
                "Delete and recreate: the consumer group's offsets are lost.",
                {"type": "boolean"},
            ),
        ),
    ),
    Operation(
        EVENTS,
        "get",
        "get_event",
        "The trigger's status, from the watch cache.",
        ok_schema="TriggerStatus",
        errors=(400, 404, 500, *_AUTH),
        scope="events:read",
        parameters=(
            _PIPELINE_ID,
            _query(
                "wait",
                "Long-poll up to this many seconds until ready.",
                {"type": "integer", "minimum": 0, "maximum": 60},
            ),
        ),
    ),
    Operation(
        EVENTS,
        "delete",
        "delete_event",
        "Stop and delete the trigger.",
        ok_schema="StopAnswer",
        errors=(404, 500, *_AUTH),
        scope="events:write",
        parameters=(_PIPELINE_ID,),
    ),
)


def _json(schema_name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}


def _operation(op: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    if op.ok_schema is None:
        responses[str(op.ok)] = {"description": "Success."}
    else:
        responses[str(op.ok)] = {"description": "Success.", "content": _json(op.ok_schema)}
    for status in sorted(op.errors):
        responses[str(status)] = {
            "description": _ERROR_STATUSES[status],
            "content": _json("ErrorBody"),
        }
    document: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "parameters": list(op.parameters),
        "responses": responses,
    }
    if op.scope:
        document["security"] = [{"bearer": [op.scope]}]
        document["description"] = f"Needs the `{op.scope}` scope."
    if op.request_schema:
        document["requestBody"] = {"required": True, "content": _json(op.request_schema)}
    return document


def _probes() -> dict[str, Any]:
    text = {"text/plain": {"schema": {"type": "string"}}}
    return {
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "summary": "Liveness.",
                "responses": {"200": {"description": "Alive."}},
            }
        },
        "/readyz": {
            "get": {
                "operationId": "readyz",
                "summary": "Readiness: start-up finished and shutdown has not begun.",
                "responses": {
                    "200": {"description": "Ready."},
                    "503": {"description": "Not ready."},
                },
            }
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "summary": "Prometheus metrics.",
                "responses": {"200": {"description": "Metrics.", "content": text}},
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document.",
                "responses": {"200": {"description": "OpenAPI 3.1."}},
            }
        },
    }


class Message(msgspec.Struct, frozen=True):
    """A confirmation: `{"message": TEXT}`."""

    message: str


class PipelinePage(msgspec.Struct, frozen=True):
    """One page of pipelines or versions."""

    items: tuple[Pipeline, ...]
    next_cursor: str | None


def _close_request_objects(components: dict[str, Any], *, root: str) -> None:
    """Mark every object a request body may hold as closed (`additionalProperties: false`).

    Our Structs skip unknown fields (schema evolution between our own services), so msgspec
    leaves their schemas open; but the API refuses unknown fields anywhere in a request body
    (422 naming each one), and the document must say so. The same components describe the
    answers, which carry exactly these fields.
    """
    pending, seen = [components[root]], set()
    while pending:
        schema = pending.pop()
        if isinstance(schema, list):
            pending.extend(schema)
            continue
        if not isinstance(schema, dict):
            continue
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith(_COMPONENT_PREFIX):
            name = ref.removeprefix(_COMPONENT_PREFIX)
            if name not in seen:
                seen.add(name)
                pending.append(components[name])
            continue
        if schema.get("type") == "object" and "properties" in schema:
            schema["additionalProperties"] = False
        pending.extend(schema.values())


def build_openapi(
    *, operations: tuple[Operation, ...] = OPERATIONS + EVENT_OPERATIONS
) -> dict[str, Any]:
    """The whole OpenAPI document."""
    _, components = msgspec.json.schema_components(
        [
            Pipeline,
            PipelineSpec,
            ErrorBody,
            Message,
            PipelinePage,
            TriggerStatus,
            StartAnswer,
            StopAnswer,
        ],
        ref_template=_COMPONENT_PREFIX + "{name}",
    )
    _close_request_objects(components, root="PipelineSpec")
    paths: dict[str, Any] = _probes()
    for op in operations:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "pipeline-events",
            "version": "1",
            "description": "Run data pipelines when messages land on Kafka topics, on Knative.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
