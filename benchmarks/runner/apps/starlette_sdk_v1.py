"""Starlette decoding with the CloudEvents SDK's classic API (``from_http``): "SDK v1".

cloudevents 1.x (the project's pin) has it as ``cloudevents.http``; 2.x moved it to
``cloudevents.v1.http``. Either works here.
"""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

try:
    from cloudevents.http import from_http
except ImportError:  # cloudevents 2.x
    from cloudevents.v1.http import from_http


async def receive_event(request: Request) -> Response:
    """Decode the CloudEvent; answer its id."""
    event = from_http(request.headers, await request.body())
    return JSONResponse({"id": event["id"]})


app = Starlette(routes=[Route("/", receive_event, methods=["POST"])])
