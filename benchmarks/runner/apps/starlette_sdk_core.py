"""Starlette decoding with the CloudEvents SDK 2.x core binding: "SDK core".

Runs from a venv with ``cloudevents==2.*`` (see ``run.sh``); the project's venv pins 1.x.
"""

from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


async def receive_event(request: Request) -> Response:
    """Decode the CloudEvent; answer its id."""
    event = from_http_event(HTTPMessage(dict(request.headers), await request.body()))
    return JSONResponse({"id": event.get_id()})


app = Starlette(routes=[Route("/", receive_event, methods=["POST"])])
