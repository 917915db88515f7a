"""The runner's application factory.

For now it answers its health check only; decoding and the step engine arrive with the runner's
own issue, configured through the runner contract in `pipeline_models`.
"""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


async def healthz(_: Request) -> Response:
    """Liveness: the process serves requests."""
    return JSONResponse({"status": "ok"})


def create_app() -> Starlette:
    """Build the runner application (uvicorn calls this with `--factory`)."""
    return Starlette(routes=[Route("/healthz", healthz)])
