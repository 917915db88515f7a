"""A Starlette no-op: one ``POST /`` route that reads the body and answers ``200 {}``."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


async def receive_event(request: Request) -> Response:
    """Read the body; answer an empty JSON object."""
    await request.body()
    return Response(b"{}", media_type="application/json")


app = Starlette(routes=[Route("/", receive_event, methods=["POST"])])
