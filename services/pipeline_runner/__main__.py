"""``python -m pipeline_runner``: serve the runner on ``$PORT`` (8080) with uvloop and httptools.

The Dockerfile's command and the local dev backend's. Binds ``$HOST`` (default ``0.0.0.0``, as
in a pod). An invalid runner contract or port stops it with a message and exit status 1; a
server that cannot start (its port taken, say) exits with uvicorn's status 3.

Per-request work the runner has no use for is off: no access log (a line per event costs more
than a simple pipeline; see :mod:`pipeline_runner.jsonlog`), no proxy-header rewriting (the
runner never reads the client's address or scheme, and behind the queue-proxy every request
would be rewritten) and no ``Server`` header; what start-up made is frozen out of the garbage
collector's sight (see :func:`freeze_start_up_objects`). Otherwise the same as
``uvicorn pipeline_runner.app:create_app --factory --loop uvloop --http httptools
--no-access-log --no-proxy-headers --no-server-header``.
"""

import gc
import os
import sys
from collections.abc import Callable

import uvicorn
from starlette.applications import Starlette

from pipeline_models import ContractError
from pipeline_runner.app import create_app

STARTUP_FAILURE = 3
"""The exit status of a server that never started (uvicorn.run's own)."""


def main(factory: Callable[[], Starlette] = create_app) -> int:
    """Run the server until SIGTERM; return the exit status.

    ``factory`` builds the app; tests that run the real process pass their seams through it
    (the egress check, say: the policy always refuses the loopback their servers listen on).
    """
    try:
        app = factory()
    except ContractError as error:
        print(f"pipeline runner: cannot start: {error}", file=sys.stderr)
        return 1
    port_text = os.environ.get("PORT", "8080")
    if not (port_text.isascii() and port_text.isdigit() and 0 < int(port_text) < 65536):
        print(
            f"pipeline runner: PORT must be a TCP port number, got {port_text!r}", file=sys.stderr
        )
        return 1
    config = uvicorn.Config(
        app,
        host=os.environ.get("HOST", "0.0.0.0"),  # noqa: S104 - a pod serves on all interfaces
        port=int(port_text),
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
    )
    config.load()  # Import the server's protocol modules now, for the freeze to cover them.
    freeze_start_up_objects()
    server = uvicorn.Server(config)
    server.run()
    # uvicorn has logged why it never started (the port taken, say): exit as uvicorn.run does.
    return 0 if server.started else STARTUP_FAILURE


def freeze_start_up_objects() -> None:
    """Put what start-up made (modules, classes, the compiled pipeline) out of the garbage
    collector's sight for good.

    Events allocate enough for the collector to run now and then; a full collection walks every
    tracked object, and the tens of thousands start-up leaves behind made each one a stall of
    tens of milliseconds for every event in flight: the p99. Frozen, they are skipped.
    """
    gc.collect()
    gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
