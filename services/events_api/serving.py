"""Running a uvicorn server the way production does: start-up frozen out of the GC's sight.

``pipeline-events serve`` (and ``dev``) serve through :func:`serve`; the Events API benchmark
starts every variant through it too, so that what it measures is what production runs.
"""

import gc
import sys

import uvicorn

STARTUP_FAILURE = 3
"""The exit status of a server that never started (uvicorn.run's own)."""


def serve(config: uvicorn.Config) -> None:
    """Load the app, freeze what start-up made, serve until stopped; exit 3 if it never started.

    The API imports some hundred thousand objects (modules, classes, the Kubernetes client's
    models). Requests allocate enough for the garbage collector to run now and then, and a
    full collection walked all of them: a stall of tens of milliseconds for every request in
    flight, which was the p99. Frozen, they are skipped.
    """
    config.load()  # The app and the server's modules exist now, for the freeze to cover them.
    gc.collect()
    gc.freeze()
    server = uvicorn.Server(config)
    server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)  # uvicorn has logged why (the port taken, say).
